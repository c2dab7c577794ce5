// Command tcplab runs TCP labs: virtual hosts with real gVisor netstack TCP
// stacks, joined by a virtual switch, in virtual time, with an annotated
// timeline and a pcapng capture of everything that happened.
package main

import "os"

func main() {
	os.Exit(run())
}
