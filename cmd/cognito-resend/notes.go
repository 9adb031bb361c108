package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// notes are the tool's own lines on stderr besides its logs: the stop notices, the end
// summary and the error a command exits with. They are plain text, or, once `run` has
// chosen JSON logs (--log-format json, or auto without a terminal), one JSON record per
// line ({"level":…,"msg":"summary","text":"summary: …"}), so that stderr stays one
// format for a log collector. A JSON note is written whatever --log-level says: the
// summary and the exit error are never filtered out.
type notes struct {
	mu   sync.Mutex
	w    io.Writer
	json *slog.Logger // nil: plain lines
}

// useJSON makes the notes JSON records from now on.
func (n *notes) useJSON() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.json = slog.New(slog.NewJSONHandler(n.w, nil))
}

// say writes text, one note per line, as kind (the JSON record's msg).
func (n *notes) say(level slog.Level, kind, text string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for line := range strings.SplitSeq(strings.TrimSuffix(text, "\n"), "\n") {
		if n.json != nil {
			n.json.Log(context.Background(), level, kind, "text", line)
			continue
		}
		fmt.Fprintln(n.w, line)
	}
}
