// Go allocation target: main.allocBlocks allocates 1000 x 4096-byte blocks
// (kept alive). usage: goalloc [seconds to wait before exiting]
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

var kept [][]byte

//go:noinline
func allocBlocks(n int) {
	for i := 0; i < n; i++ {
		b := make([]byte, 4096)
		b[0] = byte(i)
		kept = append(kept, b)
	}
}

func main() {
	wait := 0.0
	if len(os.Args) > 1 {
		wait, _ = strconv.ParseFloat(os.Args[1], 64)
		fmt.Printf("ready %d\n", os.Getpid())
		time.Sleep(500 * time.Millisecond) // let a profiler attach by pid
	}
	kept = make([][]byte, 0, 1000)
	allocBlocks(1000)
	fmt.Printf("allocated %d\n", len(kept))
	time.Sleep(time.Duration(wait * float64(time.Second)))
}
