package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// jsonTestLab is the object tcplab test --format json prints for each lab,
// in the order the labs were given.
type jsonTestLab struct {
	Kind string `json:"kind"` // "lab"
	Lab  string `json:"lab"`
	File string `json:"file,omitempty"`
	Name string `json:"name,omitempty"`
	// Status is pass, fail, error, invalid, skip or interrupted.
	Status       string            `json:"status"`
	Seeds        []uint64          `json:"seeds"`
	Runs         int               `json:"runs"`
	VirtualNS    int64             `json:"virtual_ns"`
	WallNS       int64             `json:"wall_ns"`
	Expectations []jsonTestExpect  `json:"expectations"`
	Golden       []string          `json:"golden"`
	Failures     []jsonTestFailure `json:"failures"`
	Errors       []jsonLabError    `json:"errors,omitempty"`
}

// jsonTestExpect is the result of one expectation over every seed.
type jsonTestExpect struct {
	Where       string   `json:"where"`
	Check       string   `json:"check"`
	Why         string   `json:"why,omitempty"`
	Passed      bool     `json:"passed"`
	FailedSeeds []uint64 `json:"failed_seeds"`
}

// jsonTestFailure is one failure of the lab, with the seeds it happened
// under.
type jsonTestFailure struct {
	Kind    string   `json:"kind"` // expectation, golden or error
	Summary string   `json:"summary"`
	Seeds   []uint64 `json:"seeds"`
}

// jsonTestSummary is the last object of tcplab test --format json.
type jsonTestSummary struct {
	Kind        string `json:"kind"` // "summary"
	Labs        int    `json:"labs"`
	Passed      int    `json:"passed"`
	Failed      int    `json:"failed"`
	Errors      int    `json:"errors"`
	Invalid     int    `json:"invalid"`
	Skipped     int    `json:"skipped"`
	Interrupted int    `json:"interrupted"`
	Runs        int    `json:"runs"`
	VirtualNS   int64  `json:"virtual_ns"`
	WallNS      int64  `json:"wall_ns"`
}

// statusName is the status as the JSON form spells it.
func (s status) name() string {
	return [...]string{"pass", "skip", "interrupted", "fail", "error", "invalid"}[s]
}

// json returns the lab's JSON object.
func (it *testItem) json() jsonTestLab {
	virtual, wall, finished := it.totals()
	j := jsonTestLab{Kind: "lab", Lab: it.ref, File: it.file, Status: it.status().name(), Seeds: it.seeds,
		Runs: finished, VirtualNS: int64(virtual), WallNS: int64(wall),
		Expectations: []jsonTestExpect{}, Golden: []string{}, Failures: []jsonTestFailure{}}
	if j.Seeds == nil {
		j.Seeds = []uint64{}
	}
	if it.lab == nil {
		j.Errors = labErrors(it.ref, it.invalid)
		return j
	}
	j.Name = it.lab.Name
	for i, e := range it.lab.Expect {
		x := jsonTestExpect{Where: e.Where, Check: e.String(), Why: e.Why, Passed: true, FailedSeeds: []uint64{}}
		ran := false
		for _, r := range it.runs {
			if i >= len(r.held) {
				continue
			}
			ran = true
			if !r.held[i] {
				x.Passed = false
				x.FailedSeeds = append(x.FailedSeeds, r.seed)
			}
		}
		x.Passed = x.Passed && ran
		j.Expectations = append(j.Expectations, x)
	}
	for _, r := range it.runs {
		if len(r.golden) > 0 {
			j.Golden = r.golden
			break
		}
	}
	for _, m := range it.failures() {
		j.Failures = append(j.Failures, jsonTestFailure{Kind: m.kind, Summary: m.summary, Seeds: m.seeds})
	}
	return j
}

// checkJUnitPath refuses a JUnit report path that is a directory or one of
// the lab files under test, and one whose directory cannot take a file.
func checkJUnitPath(path string, items []*testItem) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	for _, it := range items {
		if it.file != "" && sameFile(path, it.file) {
			return fmt.Errorf("%s is a lab file under test; the report would overwrite it", path)
		}
	}
	if strings.HasSuffix(path, ".toml") {
		return fmt.Errorf("%s looks like a lab file; give the report a name such as report.xml", path)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tcplab-junit-*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("cannot write into %s: %v", dir, pe.Err)
		}
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}
