package hosts_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/tcplab/tcplab/hosts"
)

// An nginx-like server that closes idle keep-alive connections after 75s,
// written by hand: each accepted connection runs its own script, and a
// Recv with a timeout reports "timed out after 75s" instead of failing.
func ExampleStep_each() {
	serve := hosts.Step{Action: hosts.Accept, Each: []hosts.Step{
		{Action: hosts.Recv, Timeout: 75 * time.Second},
		{Action: hosts.Close},
	}}
	fmt.Println(serve.String())
	fmt.Println(serve.Each[0].String())
	// Output:
	// accept each (2 steps)
	// recv timeout 75s
}

func ExampleParseEvent() {
	e, ok := hosts.ParseEvent("peer-closed")
	fmt.Println(e, ok)
	fmt.Println(strings.Join(hosts.EventNames(), ", "))
	// Output:
	// peer-closed true
	// connected, peer-closed, closed, readable, error
}
