package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// RunFile is the run's description in its results directory.
const RunFile = "run.json"

// Run describes how a results directory was made: the command, strategy,
// parameters, inputs and model, and the summary exactly as the command
// printed it. It holds no secrets: a live run's credentials never reach it.
type Run struct {
	Command  string   `json:"command"`
	Strategy string   `json:"strategy"`
	Params   []string `json:"params,omitempty"`
	// Sweep and Shard are trade backtest's --sweep flags and --shard.
	Sweep      []string `json:"sweep,omitempty"`
	Shard      string   `json:"shard,omitempty"`
	Inputs     []string `json:"inputs"`
	Model      string   `json:"model"`
	Commission float64  `json:"commission"`
	// Summary is the summary the command printed, line for line.
	Summary string `json:"summary"`
}

// WriteRun writes run into dir as RunFile.
func WriteRun(dir string, run *Run) error {
	b, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	path := filepath.Join(dir, RunFile)
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	return nil
}

// readRun reads dir's RunFile; a directory without one gives nil, nil.
func readRun(dir string) (*Run, error) {
	path := filepath.Join(dir, RunFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("report: %s: %w", path, err)
	}
	return &r, nil
}
