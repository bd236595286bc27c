// pprof labels: two goroutines burn CPU under pprof.Do with labels
// worker=alpha (main.burnAlpha) and worker=beta (main.burnBeta); two more
// block on a timer under request=slow (main.waitSlow). Runs SECONDS.
// usage: golabels [seconds]
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"time"
)

var sink uint64

//go:noinline
func burnAlpha(end time.Time) {
	for time.Now().Before(end) {
		for i := 0; i < 100000; i++ {
			sink += uint64(i)
		}
	}
}

//go:noinline
func burnBeta(end time.Time) {
	for time.Now().Before(end) {
		for i := 0; i < 100000; i++ {
			sink += uint64(i) * 3
		}
	}
}

//go:noinline
func waitSlow(end time.Time) {
	for time.Now().Before(end) {
		time.Sleep(50 * time.Millisecond)
	}
}

func main() {
	secs := 3.0
	if len(os.Args) > 1 {
		secs, _ = strconv.ParseFloat(os.Args[1], 64)
	}
	end := time.Now().Add(time.Duration(secs * float64(time.Second)))
	done := make(chan bool)
	ctx := context.Background()
	go pprof.Do(ctx, pprof.Labels("worker", "alpha"), func(context.Context) { burnAlpha(end); done <- true })
	go pprof.Do(ctx, pprof.Labels("worker", "beta"), func(context.Context) { burnBeta(end); done <- true })
	for i := 0; i < 2; i++ {
		go pprof.Do(ctx, pprof.Labels("request", "slow"), func(context.Context) { waitSlow(end); done <- true })
	}
	fmt.Printf("ready %d\n", os.Getpid())
	for i := 0; i < 4; i++ {
		<-done
	}
}
