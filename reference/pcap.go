package reference

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tcplab/tcplab/internal/pcapng"
	"github.com/tcplab/tcplab/internal/segment"
)

// frame is one TCP segment of a capture.
type frame struct {
	at  time.Time
	seg segment.Segment
}

// readPcap reads the TCP segments of a classic pcap file, as tcpdump -w
// writes it (microsecond or nanosecond timestamps, either byte order).
func readPcap(path string) ([]frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parsePcap(f)
}

// parsePcap reads the TCP segments of the capture in rd.
func parsePcap(rd io.Reader) ([]frame, error) {
	r, err := pcapng.NewReader(rd)
	if err != nil {
		return nil, err
	}
	var out []frame
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		ifc, _ := r.Interface(p.Interface)
		var hdr int
		switch ifc.LinkType {
		case pcapng.LinkTypeEthernet:
			hdr = 14
		case pcapng.LinkTypeRaw:
			hdr = 0
		case pcapng.LinkTypeLinuxSLL:
			hdr = 16
		case pcapng.LinkTypeLinuxSLL2:
			hdr = 20
		default:
			return nil, fmt.Errorf("pcap: link type %d", ifc.LinkType)
		}
		if len(p.Data) < hdr {
			continue
		}
		seg, err := segment.Parse(p.Data[hdr:])
		if err != nil {
			continue // not TCP, or cut short below the TCP header
		}
		out = append(out, frame{at: p.Time, seg: seg})
	}
}
