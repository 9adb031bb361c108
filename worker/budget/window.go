package budget

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ResetDefault is --budget-reset: windows begin at 00:00 UTC.
const ResetDefault = "00:00"

// Schedule says when the daily windows begin: Reset after 00:00 UTC every day.
type Schedule struct {
	Reset time.Duration // 0 ≤ Reset < 24h
}

// ParseReset reads --budget-reset: HH:MM, UTC.
func ParseReset(s string) (Schedule, error) {
	hh, mm, ok := strings.Cut(strings.TrimSpace(s), ":")
	h, errH := strconv.Atoi(hh)
	m, errM := strconv.Atoi(mm)
	// H:MM (9:00) is 09:00: what a tired operator types for nine o'clock.
	if !ok || errH != nil || errM != nil || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 || h < 0 || h > 23 || m < 0 || m > 59 {
		return Schedule{}, fmt.Errorf("want HH:MM in UTC, 00:00..23:59, e.g. 09:00 (got %q)", s)
	}
	return Schedule{Reset: time.Duration(h)*time.Hour + time.Duration(m)*time.Minute}, nil
}

// Window is the window holding t: it began at start and the next one opens at next
// (start ≤ t < next). The one rule for windows: the budget's counter, the next window
// a stop names, and the daily cap's pause all come from here.
func (s Schedule) Window(t time.Time) (start, next time.Time) {
	t = t.UTC()
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	start = midnight.Add(s.Reset)
	if t.Before(start) {
		start = start.AddDate(0, 0, -1)
	}
	return start, start.AddDate(0, 0, 1)
}

// Next is when the window after t's opens.
func (s Schedule) Next(t time.Time) time.Time {
	_, next := s.Window(t)
	return next
}

// String is the reset as HH:MM UTC.
func (s Schedule) String() string {
	return fmt.Sprintf("%02d:%02d UTC", int(s.Reset/time.Hour), int(s.Reset%time.Hour/time.Minute))
}

// Windows is how many windows n sends are made in at limit a window, spent of the
// current one already used (0 when limit is 0: no budget), and in which of them, counted
// from the current one (0), the last sends are made.
func Windows(n, limit, spent int) (windows, last int) {
	if limit <= 0 || n <= 0 {
		return 0, 0
	}
	left := max(limit-spent, 0)
	switch {
	case n <= left:
		return 1, 0
	case left == 0: // nothing more today: from the next window on
		windows = (n + limit - 1) / limit
		return windows, windows
	}
	windows = 1 + (n-left+limit-1)/limit
	return windows, windows - 1
}

// HHMM is the reset as --budget-reset writes it.
func (s Schedule) HHMM() string {
	return fmt.Sprintf("%02d:%02d", int(s.Reset/time.Hour), int(s.Reset%time.Hour/time.Minute))
}

// Overlapping is the windows of other (their starts, oldest first) that s's window
// holding t overlaps, up to t: where sends counted by other's windows fall within s's
// current one. A counter shared by two schedules holds its limit only if these are
// empty of sends.
func (s Schedule) Overlapping(other Schedule, t time.Time) []time.Time {
	start, _ := s.Window(t)
	ostart, _ := other.Window(t)
	var out []time.Time
	for _, w := range []time.Time{ostart.AddDate(0, 0, -1), ostart} {
		if w.AddDate(0, 0, 1).After(start) {
			out = append(out, w)
		}
	}
	return out
}
