package reference

import (
	"errors"
	"io"
	"os"
	"time"

	"github.com/tcplab/tcplab/capture"
	"github.com/tcplab/tcplab/internal/segment"
)

// frame is one TCP segment of a capture.
type frame struct {
	at  time.Time
	seg segment.Segment
}

// readPcap reads the TCP segments of the capture tcpdump -w wrote, with
// capture.Reader (which `tcplab explain` reads captures with): frames that
// hold no TCP segment are left out.
func readPcap(path string) ([]frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := capture.NewReader(f)
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
		if p.Seg != nil && !p.Truncated {
			out = append(out, frame{at: p.Time, seg: *p.Seg})
		}
	}
}
