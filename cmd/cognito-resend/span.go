package main

import (
	"fmt"
	"time"
)

// span writes a duration for people: as Go writes it under an hour (1m0s, 12m30s),
// in hours and minutes under a day (5h20m), in days and hours beyond (2d 7h) — a
// 10-million-user campaign's ETA is not read in seconds.
func span(d time.Duration) string {
	switch {
	case d < time.Hour:
		return d.String()
	case d < 24*time.Hour:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	d = d.Round(time.Hour)
	return fmt.Sprintf("%dd %dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}
