// Go lock contention target: 4 goroutines on 4 threads contend one
// sync.Mutex held ~1 ms in main.holdLock. Prints "ready PID", then
// "acquired N" at the end (the test checks the program completes normally).
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

var mu sync.Mutex
var counter int

func spin(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
	}
}

//go:noinline
func holdLock() {
	mu.Lock()
	counter++
	spin(time.Millisecond)
	mu.Unlock()
}

//go:noinline
func contender(end time.Time, wg *sync.WaitGroup) {
	defer wg.Done()
	for time.Now().Before(end) {
		holdLock()
		spin(100 * time.Microsecond)
	}
}

func main() {
	runtime.GOMAXPROCS(4)
	fmt.Printf("ready %d\n", os.Getpid())
	end := time.Now().Add(2 * time.Second)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go contender(end, &wg)
	}
	wg.Wait()
	fmt.Printf("acquired %d\n", counter)
}
