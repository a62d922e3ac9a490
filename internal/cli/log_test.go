package cli

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNewLoggerJSONWhenNotATerminal: a pipe or a file gets one JSON object
// per line, at the chosen level.
func TestNewLoggerJSONWhenNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, slog.LevelWarn)
	log.Info("dropped")
	log.Warn("kept", "market", "1.197931750")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON line: %q: %v", buf.String(), err)
	}
	if rec["msg"] != "kept" || rec["market"] != "1.197931750" {
		t.Errorf("got %v", rec)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, ok := NewLogger(f, slog.LevelInfo).Handler().(*slog.JSONHandler); !ok {
		t.Error("a regular file gets text, want JSON")
	}
}

// TestOneLogFormatRule: no command makes its own slog handler, so every
// command follows NewLogger's rule (trade backtest used to log text always).
func TestOneLogFormatRule(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			// interop/ is a module of its own; testdata holds no code.
			if n := d.Name(); path != root && (n == "interop" || n == "testdata" || strings.HasPrefix(n, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || filepath.Base(filepath.Dir(path)) == "cli" {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "slog" && (sel.Sel.Name == "NewTextHandler" || sel.Sel.Name == "NewJSONHandler") {
					t.Errorf("%s: slog.%s: use cli.NewLogger, the one format rule", fset.Position(sel.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
