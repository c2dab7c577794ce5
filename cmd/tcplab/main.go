// Package main is the tcplab command. It runs TCP labs: virtual hosts with
// real gVisor netstack TCP stacks, joined by a virtual switch, in virtual
// time, with an annotated timeline and a pcapng capture of everything that
// happened. This package is only the cobra wiring: one file per command,
// each with an options struct and a run function.
package main

import "os"

func main() {
	os.Exit(run())
}
