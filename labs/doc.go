// Package labs reads lab files and runs them. A lab is a TOML file that
// names hosts with their addresses and application steps, and the links that
// attach them to the switch. Load decodes a file strictly (unknown keys and
// wrong types are errors) and validates it, reporting every problem with its
// file:line:col position; Execute builds the virtual network from a Lab,
// runs it in virtual time and returns the tap that recorded it. The built-in
// catalogue is embedded from this directory's .toml files.
package labs
