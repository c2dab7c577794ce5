package labs

import "testing"

// TestModelParamZeros checks who says that a model parameter's 0 is below
// its min: the model (hosts.ValidateModel) when 0 cannot be meant (a
// parameter with a default), labs when the model's 0 is "unset" or
// "missing", which only the file can tell from the key left out.
func TestModelParamZeros(t *testing.T) {
	tests := []loadErrCase{
		{"holder count 0, default 1", withA(`[[hosts.apps]]`, `model = "holder"`, `to = "a:80"`, `count = 0`),
			[]string{`x.toml:7:9: count must be at least 1`}},
		{"holder count negative", withA(`[[hosts.apps]]`, `model = "holder"`, `to = "a:80"`, `count = -3`),
			[]string{`x.toml:7:9: count -3 is negative`}},
		{"max_connections 0, which the model reads as no limit", withA(`[[hosts.apps]]`, `model = "http-server"`, `max_connections = 0`, `port = 80`),
			[]string{`x.toml:6:19: max_connections must be at least 1`}},
		{"a required size written as 0", withA(`[[hosts.apps]]`, `model = "bulk-sender"`, `to = "a:80"`, `bytes = 0`),
			[]string{`x.toml:7:9: bytes must be at least 1`}},
		{"a required size left out", withA(`[[hosts.apps]]`, `model = "bulk-sender"`, `to = "a:80"`),
			[]string{`x.toml:4:1: model "bulk-sender" needs bytes`}},
	}
	checkLoadErrors(t, tests)
}

// TestUnsetZeros checks the integers whose 0 a core type reads as
// "unset": labs reports a written 0, the core type a negative value.
func TestUnsetZeros(t *testing.T) {
	tests := []loadErrCase{
		{"fault zeros", withA(`[[faults]]`, `action = "drop"`, `nth = 0`, `count = 0`, `connection = 0`), // 4-8
			[]string{`x.toml:6:7: nth must be at least 1`, `x.toml:7:9: count must be at least 1`, `x.toml:8:14: connection must be at least 1`}},
		{"fault negatives", withA(`[[faults]]`, `action = "drop"`, `nth = -1`, `count = -2`, `connection = -3`),
			[]string{`x.toml:6:7: nth -1 is negative`, `x.toml:7:9: count -2 is negative`, `x.toml:8:14: connection -3 is negative`}},
		{"somaxconn 0", withA(`[hosts.tcp]`, `somaxconn = 0`),
			[]string{`x.toml:5:13: somaxconn must be at least 1`}},
		{"mss 0", withA(`[hosts.tcp]`, `mss = 0`),
			[]string{`x.toml:5:7: mss 0 is outside 536–65495 (leave mss out for the default)`}},
		{"mss too small", withA(`[hosts.tcp]`, `mss = 100`),
			[]string{`x.toml:5:7: mss 100 is outside 536–65495`}},
		{"somaxconn negative", withA(`[hosts.tcp]`, `somaxconn = -5`),
			[]string{`x.toml:5:13: somaxconn -5 is negative`}},
	}
	checkLoadErrors(t, tests)
}
