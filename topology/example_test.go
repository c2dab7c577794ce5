package topology_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/tcplab/tcplab/internal/segment"
	"github.com/tcplab/tcplab/topology"
)

func ExampleNetwork_AddFault() {
	n := topology.New(1, nil, nil)
	synOnly, _ := segment.ParseFlagMatch("SYN,!ACK")
	// Hold the first client SYN at the switch until 3s: the client's
	// SYN retransmission timer fires first.
	err := n.AddFault(topology.Fault{Action: topology.FaultHold, Flags: synOnly, Nth: 1, Until: 3 * time.Second})
	fmt.Println(err)
	err = n.AddFault(topology.Fault{Action: topology.FaultDelay})
	fmt.Println(err)
	// Output:
	// <nil>
	// a delay fault needs delay = "500ms"
}

func ExampleInjection() {
	// A spoofed SYN flood: 100 SYNs from random addresses in 10.9.0.0/16
	// and random ports, entering the switch through the attacker's port
	// (pass it to Network.AddInjection once "attacker" is attached).
	flood := topology.Injection{
		Via:       "attacker",
		Count:     100,
		Interval:  time.Millisecond,
		SrcPrefix: netip.MustParsePrefix("10.9.0.0/16"),
		Dst:       netip.MustParseAddrPort("10.0.0.2:80"),
		Flags:     segment.SYN,
	}
	fmt.Println(flood.Validate())
	flood.Dst = netip.MustParseAddrPort("[fd00::2]:80")
	fmt.Println(flood.Validate())
	// Output:
	// <nil>
	// from 10.9.0.0 and to fd00::2 are of different IP versions
}
