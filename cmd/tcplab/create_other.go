//go:build !unix

package main

import "os"

// createOutput opens file for writing from empty: os.Create.
func createOutput(file string) (*os.File, error) { return os.Create(file) }
