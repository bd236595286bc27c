// Go workloads for bench/: `goload pingpong SECONDS` bounces a token
// between two goroutines over unbuffered channels and prints
// "round_trips_per_sec N" (each round trip is two park/run pairs);
// `goload many N` parks N goroutines, prints "ready PID" and sleeps.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

//go:noinline
func parked(ch chan int) {
	<-ch
}

func main() {
	if len(os.Args) > 2 && os.Args[1] == "many" {
		n, _ := strconv.Atoi(os.Args[2])
		ch := make(chan int)
		for i := 0; i < n; i++ {
			go parked(ch)
		}
		time.Sleep(200 * time.Millisecond)
		fmt.Printf("ready %d\n", os.Getpid())
		time.Sleep(time.Hour)
		return
	}
	secs := 3.0
	if len(os.Args) > 2 {
		secs, _ = strconv.ParseFloat(os.Args[2], 64)
	}
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	fmt.Printf("ready %d\n", os.Getpid())
	end := time.Now().Add(time.Duration(secs * float64(time.Second)))
	n := 0
	start := time.Now()
	for time.Now().Before(end) {
		for i := 0; i < 1000; i++ {
			ping <- i
			<-pong
		}
		n += 1000
	}
	fmt.Printf("round_trips_per_sec %.0f\n", float64(n)/time.Since(start).Seconds())
}
