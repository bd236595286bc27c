// Goroutine blocking with Go's own block and mutex profiling on, for
// offcpu's and lockwait's goroutine views. 40 goroutines wait on a channel
// in main.barChanWait (closed after 1 s, twice: ~80 goroutine-seconds);
// 4 goroutines take a mutex in main.mutexWait that main.mutexHolder holds
// for 100 ms at a time, 10 times; 20 goroutines stay parked in
// main.parkForever. At the end it writes Go's own block, mutex, goroutine
// and heap profiles to PREFIX-{block,mutex,goroutine,heap}.pb.gz, keeping
// 64 MiB live from main.keepLive, and exits 0.
// With HOLD set it then stays until SIGUSR1.
// usage: goblock PREFIX
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"
)

var mu sync.Mutex
var live [][]byte

//go:noinline
func barChanWait(ch chan struct{}, wg *sync.WaitGroup) {
	<-ch
	wg.Done()
}

//go:noinline
func mutexWait(wg *sync.WaitGroup) {
	for i := 0; i < 5; i++ {
		mu.Lock()
		mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	wg.Done()
}

//go:noinline
func mutexHolder() {
	for i := 0; i < 10; i++ {
		mu.Lock()
		time.Sleep(100 * time.Millisecond)
		mu.Unlock()
		time.Sleep(time.Millisecond)
	}
}

//go:noinline
func parkForever(ch chan int) {
	<-ch
}

//go:noinline
func keepLive() {
	for i := 0; i < 64; i++ {
		live = append(live, make([]byte, 1<<20))
	}
}

func write(prefix, name string) {
	f, err := os.Create(prefix + "-" + name + ".pb.gz")
	if err != nil {
		panic(err)
	}
	pprof.Lookup(name).WriteTo(f, 0)
	f.Close()
}

func main() {
	runtime.SetBlockProfileRate(1)
	runtime.SetMutexProfileFraction(1)
	never := make(chan int)
	for i := 0; i < 20; i++ {
		go parkForever(never)
	}
	for round := 0; round < 2; round++ {
		ch := make(chan struct{})
		var wg sync.WaitGroup
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go barChanWait(ch, &wg)
		}
		time.Sleep(time.Second)
		close(ch)
		wg.Wait()
	}
	var wg sync.WaitGroup
	go mutexHolder()
	time.Sleep(10 * time.Millisecond)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go mutexWait(&wg)
	}
	wg.Wait()
	keepLive()
	runtime.GC()
	prefix := os.Args[1]
	for _, n := range []string{"block", "mutex", "goroutine", "heap"} {
		write(prefix, n)
	}
	fmt.Println("done")
	if os.Getenv("HOLD") != "" { // stay, with the 64 MiB, until SIGUSR1 (at most 30 s)
		usr1 := make(chan os.Signal, 1)
		signal.Notify(usr1, syscall.SIGUSR1)
		select {
		case <-usr1:
		case <-time.After(30 * time.Second):
		}
		runtime.KeepAlive(live)
	}
}
