package labs

import (
	"bytes"
	"fmt"
	"io"
)

// Limits of a lab file. A lab is a small description of a few hosts and
// what they do; these bounds are far above what a lab needs and keep a
// hostile or mistaken file from taking unbounded time or memory before the
// run starts (the run itself is bounded by max_events and time_limit).
const (
	// MaxFileSize is the largest lab file, in bytes.
	MaxFileSize = 1 << 20
	// MaxHosts is the largest number of [[hosts]] in a lab.
	MaxHosts = 5000
	// MaxApps is the largest number of applications on one host, each copy
	// counted.
	MaxApps = 10000
	// MaxCount bounds an injection's count and a holder's connections.
	MaxCount = 100000
	// MaxEvents is the largest event budget (max_events, --max-events).
	MaxEvents = 1 << 40
)

// bom is the UTF-8 byte-order mark some editors write at the start of a file.
var bom = []byte("\xef\xbb\xbf")

// checkSize strips a leading byte-order mark from data and refuses a file
// larger than MaxFileSize.
func checkSize(file string, data []byte) ([]byte, error) {
	data = bytes.TrimPrefix(data, bom)
	if len(data) > MaxFileSize {
		return nil, ErrorList{{File: file, Pos: Pos{1, 1}, Msg: tooLarge(int64(len(data)))}}
	}
	return data, nil
}

// tooLarge words the error for a file of n bytes (or more).
func tooLarge(n int64) string {
	return fmt.Sprintf("the file holds %s bytes; a lab file may hold at most %d (1 MiB)", sizeText(n), MaxFileSize)
}

// sizeText writes n, or "more than MaxFileSize" when n is past it by one,
// which is all readFile knows.
func sizeText(n int64) string {
	if n == MaxFileSize+1 {
		return fmt.Sprintf("more than %d", MaxFileSize)
	}
	return fmt.Sprint(n)
}

// readLimited reads r up to one byte past MaxFileSize, so that reading a
// device that never ends (/dev/zero) stops, and Load reports the size.
func readLimited(r io.Reader) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, MaxFileSize+1))
}
