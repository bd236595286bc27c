// Writes a CPU profile with Go's own runtime/pprof while burning CPU in
// known functions (main.burnMost ~3/4, main.burnSome ~1/4).
// usage: gopprof OUT.pprof [seconds]
package main

import (
	"os"
	"runtime/pprof"
	"strconv"
	"time"
)

var sink uint64

//go:noinline
func burnMost(end time.Time) {
	for time.Now().Before(end) {
		for i := 0; i < 100000; i++ {
			sink += uint64(i) * 3
		}
	}
}

//go:noinline
func burnSome(end time.Time) {
	for time.Now().Before(end) {
		for i := 0; i < 100000; i++ {
			sink += uint64(i) * 5
		}
	}
}

func main() {
	secs := 2.0
	if len(os.Args) > 2 {
		secs, _ = strconv.ParseFloat(os.Args[2], 64)
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	pprof.StartCPUProfile(f)
	deadline := time.Now().Add(time.Duration(secs * float64(time.Second)))
	for time.Now().Before(deadline) {
		now := time.Now()
		burnMost(now.Add(3 * time.Millisecond))
		burnSome(now.Add(4 * time.Millisecond))
	}
	pprof.StopCPUProfile()
	f.Close()
}
