package campaign

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/cognito-resend/cognito-resend/config"
	"github.com/cognito-resend/cognito-resend/worker/metrics"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

// The checks of the campaign's own files and ports, run by Prepare before the prompt
// and in the dry run too: each can fail before any call, and none creates anything, so
// a run that exits 2 leaves no file behind and the corrected command runs as is.

// checkReport checks that the report can be created (or, with --resume, continued):
// a new campaign's report and file ledger must not exist, and its directory must exist
// and be writable.
func (c *Campaign) checkReport() error {
	path := c.reportPath
	bad := func(format string, args ...any) error {
		return &config.FieldError{Field: "report", Msg: fmt.Sprintf(format, args...)}
	}
	_, err := os.Lstat(path)
	exists := err == nil
	if !c.cfg.Resume {
		if exists {
			return bad("%s already exists: use --resume to continue that campaign or choose another --report", path)
		}
		if ledger := records.LedgerPath(path); c.cfg.LedgerTable == "" && existsPath(ledger) {
			return bad("ledger %s exists: a campaign with this report was started; use --resume to continue it or choose another --report", ledger)
		}
	}
	if exists {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return bad("can't append to %s: %v", path, errors.Unwrap(err))
		}
		return f.Close()
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return bad("directory %s does not exist (for %s): create it or choose another --report", dir, path)
	case err != nil:
		return bad("directory %s of %s: %v", dir, path, errors.Unwrap(err))
	case !st.IsDir():
		return bad("%s is not a directory", dir)
	}
	// Writable is what creating a file there says (permissions, ACLs, a read-only mount).
	f, err := os.CreateTemp(dir, ".cognito-resend-check-*")
	if err != nil {
		return bad("can't create files in %s: %v", dir, errors.Unwrap(err))
	}
	name := f.Name()
	return errors.Join(f.Close(), os.Remove(name))
}

func existsPath(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// bindMetrics binds --metrics-addr once, before the report is opened; the run serves on
// that listener, and Close releases it when nothing does (a dry run, a refused prompt).
func (c *Campaign) bindMetrics(ctx context.Context) error {
	if c.cfg.MetricsAddr == "" || c.metricsLn != nil {
		return nil
	}
	ln, err := metrics.Listen(ctx, c.cfg.MetricsAddr)
	if err != nil {
		return &config.FieldError{Field: "metrics-addr", Msg: err.Error()}
	}
	c.metricsLn = ln
	return nil
}

// takeMetricsListener hands the listener bound by Prepare to the metrics server.
func (c *Campaign) takeMetricsListener(ctx context.Context) (net.Listener, error) {
	if err := c.bindMetrics(ctx); err != nil {
		return nil, err
	}
	ln := c.metricsLn
	c.metricsLn = nil
	return ln, nil
}

// Close releases what Prepare holds and no run took (the --metrics-addr listener), and
// the report's lock (lockReport).
func (c *Campaign) Close() error {
	c.removeTempSnapshot()
	err := c.lock.Release()
	c.lock = nil
	if c.metricsLn == nil {
		return err
	}
	err = errors.Join(err, c.metricsLn.Close())
	c.metricsLn = nil
	return err
}

// discardFresh removes the report, its .input and the file ledger this run created, when
// it ends with a usage error before any call: nothing was recorded, and the corrected
// command must not find them ("already exists: use --resume").
func (c *Campaign) discardFresh(r *resumed) {
	if r.state != nil {
		return // a resumed campaign's files are its history
	}
	_ = os.Remove(c.reportPath)                    // there was none before this run
	_ = os.Remove(records.InputPath(c.reportPath)) // written by this run for its new report
	if c.cfg.LedgerTable == "" && !c.cfg.Resume {
		// Created by this run (O_EXCL); a resumed campaign's ledger may be older.
		_ = os.Remove(records.LedgerPath(c.reportPath))
	}
}

// checkCSV opens the --csv file and closes it: a missing or unreadable file is named
// first, the error the run's own open (openCSV) would give, never after "no terminal to
// confirm on" (trial 4: that came first until --yes was given).
func (c *Campaign) checkCSV() error {
	if c.cfg.CSV == "" || c.cfg.CSV == "-" {
		return nil
	}
	f, err := os.Open(c.cfg.CSV)
	if err != nil {
		return &config.FieldError{Field: "csv", Msg: err.Error()}
	}
	return f.Close()
}
