package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/cognito-resend/cognito-resend/worker/reportset"
)

// newCmdReport is `cognito-resend report`: tools over finished (or running) campaigns'
// report files. Its verbs are one file each: report_summary.go, report_users.go,
// report_html.go.
func newCmdReport(ios streams) *cli.Command {
	return &cli.Command{
		Name:  "report",
		Usage: "summarise, filter or render report files (CSV or JSONL, one or many: replicas, resumes)",
		Commands: []*cli.Command{
			newCmdReportSummary(ios),
			newCmdReportUsers(ios),
			newCmdReportHTML(ios),
		},
	}
}

// readReports reads the command's report arguments into one set; an unreadable file or
// a path that is not a report's is a usage error. Malformed lines are not errors: they
// are counted and named, and said on stderr.
func readReports(cmd *cli.Command, stderr io.Writer, verb string) (*reportset.Set, []string, error) {
	paths := cmd.Args().Slice()
	if len(paths) == 0 {
		return nil, nil, usageErr(fmt.Errorf("report %s: give one or more report files (.csv or .jsonl)", verb))
	}
	set, err := reportset.Read(paths...)
	if err != nil {
		return nil, nil, usageErr(err)
	}
	if err := noReport(set.Summary()); err != nil {
		return nil, nil, usageErr(err)
	}
	if n := set.MalformedLines(); n > 0 && verb != "summary" {
		fmt.Fprintf(stderr, "cognito-resend: %d malformed lines skipped (not report rows); `report summary` names them\n", n)
	}
	return set, paths, nil
}

// createOutput opens the -o file, or stdout for "" and "-". It never writes over a file
// (like ledger export: a retry list written earlier is lost otherwise, trial 4); naming
// one of the reports it reads says so. The output is written to a new file of mode 0600
// (it holds usernames) beside path; finish(nil) links it at path — failing, not
// replacing, if a file appeared there meanwhile — so a failed write (finish(err)) leaves
// nothing behind.
func createOutput(verb, path string, inputs []string, stdout io.Writer) (w io.Writer, finish func(writeErr error) error, err error) {
	if path == "" || path == "-" {
		return stdout, func(error) error { return nil }, nil
	}
	if st, err := os.Lstat(path); err == nil {
		for _, in := range inputs {
			if ist, err := os.Stat(in); err == nil && os.SameFile(st, ist) {
				return nil, nil, usageErr(fmt.Errorf("-o %s is one of the reports being read; choose another file", path))
			}
		}
		return nil, nil, usageErr(fmt.Errorf("-o %s already exists: report %s never overwrites a file; choose another -o "+
			"(or move that file away)", path, verb))
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp") // mode 0600
	if err != nil {
		return nil, nil, usageErr(fmt.Errorf("-o %s: %w", path, err))
	}
	return f, func(writeErr error) error {
		err := writeErr
		if err == nil {
			err = f.Sync()
		}
		err = errors.Join(err, f.Close())
		if err == nil {
			err = placeNew(f.Name(), path)
		}
		_ = os.Remove(f.Name())
		if err != nil && writeErr == nil {
			return fmt.Errorf("write %s: %w", filepath.Clean(path), err)
		}
		return nil
	}, nil
}

// placeNew puts the file tmp at path, never over a file there: a hard link fails if one
// is; where links are not supported (FAT, some network shares), a rename once path is
// checked absent.
func placeNew(tmp, path string) error {
	err := os.Link(tmp, path)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	if _, serr := os.Lstat(path); serr == nil {
		return fmt.Errorf("%s: %w", path, fs.ErrExist)
	}
	return os.Rename(tmp, path)
}

// noReport is the error when not one of the files is a report: each is a CSV with
// another header (an input CSV, say), or holds lines but no row. A summary of zeros would
// say the campaign did nothing. Among reports, such a file is named and skipped.
func noReport(sum reportset.Summary) error {
	var why []string
	for _, f := range sum.Files {
		switch {
		case f.Rows > 0:
			return nil
		case f.Foreign:
			why = append(why, f.Path+" (its first line is not the report's CSV header)")
		case f.Malformed > 0:
			why = append(why, f.Path+" (no line is a report row)")
		default:
			return nil // a report without rows yet: a campaign that wrote its header
		}
	}
	if len(why) == 0 {
		return nil
	}
	return fmt.Errorf("not a cognito-resend report: %s; give the files written by run --report", strings.Join(why, ", "))
}
