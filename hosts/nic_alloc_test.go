package hosts

import (
	"bytes"
	"testing"
)

// TestNicAlloc checks that packets carved from one slab do not overlap:
// each has exactly the capacity asked for, so appending to one moves it
// instead of writing over the next, and big packets get their own array.
func TestNicAlloc(t *testing.T) {
	n := &nic{}
	var pkts [][]byte
	for i := range 200 {
		size := 40 + i*13%1500
		b := n.alloc(size)
		if len(b) != 0 || cap(b) != size {
			t.Fatalf("alloc(%d): len %d cap %d", size, len(b), cap(b))
		}
		pkts = append(pkts, append(b, bytes.Repeat([]byte{byte(i)}, size)...))
	}
	grown := append(pkts[0], 0xEE) // must not write into pkts[1]
	if &grown[0] == &pkts[0][0] {
		t.Fatal("appending past a packet's capacity reused its slab")
	}
	for i, p := range pkts {
		if !bytes.Equal(p, bytes.Repeat([]byte{byte(i)}, len(p))) {
			t.Fatalf("packet %d was overwritten", i)
		}
	}
	used := len(n.slab)
	if big := n.alloc(slabSize); cap(big) != slabSize || len(n.slab) != used {
		t.Fatalf("a %d-byte packet: cap %d, slab use %d -> %d (want its own array)", slabSize, cap(big), used, len(n.slab))
	}
}
