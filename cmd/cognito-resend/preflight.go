package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/cognito-resend/cognito-resend/worker"
)

// census is what a pass over a source finds, without calling Cognito.
type census struct {
	Read, ToSend, Invalid, Duplicates int
}

// countSource reads a source to the end the way the engine would (validation, dedupe
// against seen) and counts. seen is not modified.
func countSource(ctx context.Context, src worker.Source, seen *worker.SeenSet) (census, error) {
	var c census
	local := worker.NewSeenSet()
	for {
		j, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			return c, nil
		}
		if err != nil {
			return c, err
		}
		c.Read++
		switch {
		case j.Invalid != "":
			c.Invalid++
		case (seen != nil && seen.Contains(j.Username)) || !local.Add(j.Username):
			c.Duplicates++
		default:
			c.ToSend++
		}
	}
}

func eta(n int, rate float64) time.Duration {
	if rate <= 0 {
		return 0
	}
	d := time.Duration(float64(n) / rate * float64(time.Second))
	return (d + time.Second - 1).Truncate(time.Second) // whole seconds, rounded up
}

func printCensus(w io.Writer, c census, rate float64) {
	fmt.Fprintf(w, "dry run: no ResendConfirmationCode call was made\n")
	fmt.Fprintf(w, "rows read:   %d\n", c.Read)
	fmt.Fprintf(w, "to send:     %d\n", c.ToSend)
	fmt.Fprintf(w, "invalid:     %d\n", c.Invalid)
	fmt.Fprintf(w, "duplicates:  %d\n", c.Duplicates)
	fmt.Fprintf(w, "ETA:         %s at %g/s\n", eta(c.ToSend, rate), rate)
}

func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// errDeclined: the operator answered no at the prompt.
var errDeclined = errors.New("not confirmed; nothing was sent")

// confirm asks the operator on the terminal. Anything but y/yes is a no.
func confirm(in io.Reader, out io.Writer, n int, rate float64) error {
	fmt.Fprintf(out, "About to resend confirmation codes to %d users at %g/s (about %s). Continue? [y/N] ",
		n, rate, eta(n, rate))
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errDeclined
}
