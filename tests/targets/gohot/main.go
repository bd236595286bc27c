// A Go CPU target: main.hotLoop burns CPU, called by main.driveWork.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

var sink uint64

//go:noinline
func tick() { sink++ }

// hotLoop makes a call, so Go gives it a frame: frame-pointer unwinding
// skips the caller of a frameless leaf (docs/oncpu.md, "Limits").
//
//go:noinline
func hotLoop(n int) {
	for i := 0; i < n; i++ {
		sink += uint64(i) * 7
	}
	tick()
}

//go:noinline
func driveWork(end time.Time) {
	for time.Now().Before(end) {
		hotLoop(2000000)
	}
}

func main() {
	secs := 5.0
	if len(os.Args) > 1 {
		secs, _ = strconv.ParseFloat(os.Args[1], 64)
	}
	fmt.Printf("ready %d\n", os.Getpid())
	driveWork(time.Now().Add(time.Duration(secs * float64(time.Second))))
}
