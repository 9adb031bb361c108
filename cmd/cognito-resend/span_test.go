package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSpanReadsInDaysAndHours(t *testing.T) {
	require.Equal(t, "59m59s", span(time.Hour-time.Second))
	require.Equal(t, "1h00m", span(time.Hour))
	require.Equal(t, "5h20m", span(5*time.Hour+20*time.Minute+10*time.Second))
	require.Equal(t, "23h59m", span(24*time.Hour-31*time.Second))
	require.Equal(t, "2d 7h", span(55*time.Hour+10*time.Minute))
	// 10 000 000 users at 50/s: 2.3 days.
	require.Equal(t, "2d 8h", span(eta(10_000_000, 50))) // 55.6 h
}
