package reference

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/tcplab/tcplab/internal/segment"
)

// frame is one TCP segment of a capture.
type frame struct {
	at  time.Time
	seg segment.Segment
}

// Link types tcpdump writes.
const (
	linkEthernet = 1
	linkRaw      = 101
	linkSLL      = 113
	linkSLL2     = 276
)

// readPcap reads the TCP segments of a classic pcap file, as tcpdump -w
// writes it.
func readPcap(path string) ([]frame, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parsePcap(data)
}

// parsePcap parses a classic pcap file (microsecond or nanosecond
// timestamps, either byte order).
func parsePcap(data []byte) ([]frame, error) {
	if len(data) < 24 {
		return nil, errors.New("pcap: short file")
	}
	var bo binary.ByteOrder
	nano := false
	switch binary.LittleEndian.Uint32(data) {
	case 0xa1b2c3d4:
		bo = binary.LittleEndian
	case 0xa1b23c4d:
		bo, nano = binary.LittleEndian, true
	default:
		switch binary.BigEndian.Uint32(data) {
		case 0xa1b2c3d4:
			bo = binary.BigEndian
		case 0xa1b23c4d:
			bo, nano = binary.BigEndian, true
		default:
			return nil, errors.New("pcap: not a pcap file")
		}
	}
	link := bo.Uint32(data[20:]) & 0xffff
	var out []frame
	for p := 24; p+16 <= len(data); {
		sec, frac, incl := bo.Uint32(data[p:]), bo.Uint32(data[p+4:]), int(bo.Uint32(data[p+8:]))
		p += 16
		if p+incl > len(data) {
			return out, errors.New("pcap: truncated record")
		}
		pkt := data[p : p+incl]
		p += incl
		var hdr int
		switch link {
		case linkEthernet:
			hdr = 14
		case linkRaw:
			hdr = 0
		case linkSLL:
			hdr = 16
		case linkSLL2:
			hdr = 20
		default:
			return nil, fmt.Errorf("pcap: link type %d", link)
		}
		if len(pkt) < hdr {
			continue
		}
		ns := int64(frac) * 1000
		if nano {
			ns = int64(frac)
		}
		seg, err := segment.Parse(pkt[hdr:])
		if err != nil {
			continue // not TCP, or cut short below the TCP header
		}
		out = append(out, frame{at: time.Unix(int64(sec), ns), seg: seg})
	}
	return out, nil
}
