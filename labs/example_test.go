package labs_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/tcplab/tcplab/labs"
	"github.com/tcplab/tcplab/tap"
)

// Open loads a built-in lab by name (or a lab file by path) and Execute
// runs it in virtual time: the same lab and seed give the same run on
// every machine.
func ExampleExecute() {
	lab, err := labs.Open("handshake")
	if err != nil {
		log.Fatal(err)
	}
	run, err := labs.Execute(context.Background(), lab, labs.RunOptions{KeepRows: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range run.Segments() {
		fmt.Println(r.No, r.From, "→", r.To, r.Seg.Flags)
	}
	fmt.Println(run.Result.Reason, "at", run.Result.End)
	// Output:
	// 1 client:46449 → server:80 SYN
	// 2 server:80 → client:46449 SYN, ACK
	// 3 client:46449 → server:80 ACK
	// idle at 31ms
}

// Check gives the outcome of each of the lab's expectations, as tcplab test
// reports them: a lab in your own repository can be tested from go test.
func ExampleCheck() {
	dir, err := os.MkdirTemp("", "labs-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "refused.toml")
	src := `name = "refused"

[[hosts]]
name = "server"
ipv4 = "10.0.0.2"

[[hosts]]
name = "client"
ipv4 = "10.0.0.1"
steps = [{do = "connect", to = "server:81"}]

[[expect]]
error = "connection refused"
host = "client"
why = "nothing listens on port 81"

[[expect]]
segment = "client > server SYN"
count = 2
why = "a wrong expectation: netstack sends one SYN"
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		log.Fatal(err)
	}
	lab, err := labs.Open(file)
	if err != nil {
		log.Fatal(err)
	}
	run, err := labs.Execute(context.Background(), lab, labs.RunOptions{})
	if err != nil {
		log.Fatal(err)
	}
	outs := labs.Check(run)
	for _, o := range outs {
		fmt.Println(o.OK, o.Exp, "-", o.Message)
	}
	fmt.Println(labs.Failed(outs), "failed")
	// Output:
	// true error "connection refused" on client (at least 1) - application errors "connection refused" on client: found 1, expected at least 1
	// false segment "client > server SYN" (exactly 2) - segments client > server SYN: found 1, expected exactly 2
	// 1 failed
}

// Load reports every problem of a lab file at once, each at its
// file:line:col: first what cannot be decoded (unknown keys, wrong types),
// and once a file decodes, every invalid value.
func ExampleLoad() {
	_, err := labs.Load("broken.toml", []byte(`[[hosts]]
name = "a"
ipv4 = "10.0.0.1"

[[links]]
host = "a"
latency = 5
loss = "high"
`))
	fmt.Println(err)
	_, err = labs.Load("invalid.toml", []byte(`[[hosts]]
name = "a"
ipv4 = "10.0.0.300"

[[links]]
host = "b"
`))
	fmt.Println(err)
	// Output:
	// broken.toml:7:11: latency must be a duration string such as "200ms", not the integer 5
	// broken.toml:8:8: loss must be a number, not the string "high"
	// invalid.toml:3:8: "10.0.0.300" is not an IP address
	// invalid.toml:6:8: link names host "b", which is not defined
}

// Prepare builds the network without running it, so that writers can be
// added to the tap first: here the text timeline, as tcplab run prints it.
func ExamplePrepare() {
	lab, err := labs.Open("handshake")
	if err != nil {
		log.Fatal(err)
	}
	run, err := labs.Prepare(lab, labs.RunOptions{})
	if err != nil {
		log.Fatal(err)
	}
	rows := &tap.Collector{}
	run.Tap.AddSink(rows)
	if err := run.Go(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(rows.Rows) > 0, run.Frames, "frames")
	// Output:
	// true 3 frames
}
