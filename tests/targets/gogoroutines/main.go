// Goroutines parked in known places, for `bpfprof goroutines` (and the Go
// views of offcpu and lockwait): 20 parked for ever on a channel in
// main.parkForever, 5 in time.Sleep in main.napper, 3 waiting for a mutex
// held by main.holdMutex, 2 in select in main.selectWait. It prints
// "ready PID", then after SECONDS (or SIGUSR1) writes Go's own goroutine
// profile to OUT (pprof format, debug=0) and exits 0.
// usage: gogoroutines OUT.pb.gz [seconds]
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"time"
)

var mu sync.Mutex

//go:noinline
func parkForever(ch chan int) {
	<-ch
}

//go:noinline
func napper() {
	for {
		time.Sleep(time.Hour)
	}
}

//go:noinline
func lockWaiter() {
	mu.Lock()
	mu.Unlock()
}

//go:noinline
func holdMutex(release chan struct{}) {
	mu.Lock()
	<-release
	mu.Unlock()
}

//go:noinline
func selectWait(a, b chan int) {
	select {
	case <-a:
	case <-b:
	}
}

func main() {
	secs := 3600.0
	if len(os.Args) > 2 {
		secs, _ = strconv.ParseFloat(os.Args[2], 64)
	}
	runtime.SetBlockProfileRate(1)
	runtime.SetMutexProfileFraction(1)
	never := make(chan int)
	for i := 0; i < 20; i++ {
		go parkForever(never)
	}
	for i := 0; i < 5; i++ {
		go napper()
	}
	release := make(chan struct{})
	go holdMutex(release)
	time.Sleep(50 * time.Millisecond)
	for i := 0; i < 3; i++ {
		go lockWaiter()
	}
	a, b := make(chan int), make(chan int)
	for i := 0; i < 2; i++ {
		go selectWait(a, b)
	}
	time.Sleep(100 * time.Millisecond)
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	fmt.Printf("ready %d\n", os.Getpid())
	select {
	case <-usr1:
	case <-time.After(time.Duration(secs * float64(time.Second))):
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	pprof.Lookup("goroutine").WriteTo(f, 0)
	f.Close()
	close(release)
}
