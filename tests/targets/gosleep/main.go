// Go off-CPU target: main.waitOnChannel blocks in a channel receive that a
// goroutine feeds every 50 ms, and main.napper sleeps with time.Sleep.
package main

import (
	"fmt"
	"os"
	"time"
)

//go:noinline
func waitOnChannel(c chan int, n int) int {
	sum := 0
	for i := 0; i < n; i++ {
		sum += <-c
	}
	return sum
}

//go:noinline
func napper(n int) {
	for i := 0; i < n; i++ {
		time.Sleep(50 * time.Millisecond)
	}
}

func main() {
	fmt.Printf("ready %d\n", os.Getpid())
	c := make(chan int)
	go func() {
		for i := 0; i < 10; i++ {
			time.Sleep(50 * time.Millisecond)
			c <- i
		}
	}()
	fmt.Println(waitOnChannel(c, 10))
	napper(10)
	fmt.Println("done")
}
