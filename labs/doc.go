// Package labs reads lab files and runs them. A lab is a TOML file that
// names hosts with their addresses and application steps, and the links that
// attach them to the switch. Load decodes a file strictly (unknown keys and
// wrong types are errors) and validates it, reporting every problem with its
// file:line:col position; Execute builds the virtual network from a Lab,
// runs it in virtual time and returns the tap that recorded it. The built-in
// catalogue is embedded from this directory's .toml files.
//
// # Using labs from Go
//
// A project can test its own labs from go test: Open a lab (a built-in name
// or a file), Execute it, and Check its expectations (see the examples).
// Open, Load, Execute, Prepare and Run.Go, Check and Failed, RunOptions,
// Outcome, Error and ErrorList are meant to stay as they are: their
// behaviour may grow (new options, new expectation kinds), but what compiles
// today keeps compiling and means the same. The fields of Lab and of the
// hosts, topology and tap types it holds describe tcplab's internals and
// may change between releases; so may the text of messages and notes
// (match note keys, not texts).
//
// Loading is bounded: a file larger than MaxFileSize, nested deeper than
// its limit, with more than MaxHosts hosts, and so on, is refused with a
// positioned error (see docs/LABS.md, "Limits"), and a run stops at its time
// limit, its event budget or RunOptions.MaxMemory.
package labs
