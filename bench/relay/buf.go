package main

import "gvisor.dev/gvisor/pkg/buffer"

// bufferFrom copies b into a netstack buffer.
func bufferFrom(b []byte) buffer.Buffer { return buffer.MakeWithData(append([]byte(nil), b...)) }
