package config_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/config"
)

func TestParseByteSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]config.ByteSize{
		"0": 0, "2048": 2048, "512B": 512, "2KiB": 2048, "2 KiB": 2048, "2ki": 2048, "64MiB": 64 << 20,
		"64mib": 64 << 20, "64Mi": 64 << 20, "1GiB": 1 << 30, "1Ti": 1 << 40, "100MB": 100e6, "1k": 1000,
		"1G": 1e9, " 7 ": 7,
	} {
		got, err := config.ParseByteSize(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "MiB", "-1", "1.5MiB", "64 MiBs", "0x10", "99999999999999999999", "9000000TiB"} {
		_, err := config.ParseByteSize(in)
		require.Error(t, err, in)
	}
	require.Equal(t, "64MiB", config.ByteSize(64<<20).String())
	require.Equal(t, "2KiB", config.ByteSize(2048).String())
	require.Equal(t, "1000", config.ByteSize(1000).String())
	require.Equal(t, "0", config.ByteSize(0).String())
}

func TestReportRotation(t *testing.T) {
	t.Parallel()

	t.Run("defaults by mode", func(t *testing.T) {
		t.Parallel()
		c := validConfig()
		require.Equal(t, 4, c.ReportKeep)
		require.Zero(t, c.ReportRotateSize(), "CSV: never rotates")
		c.CSV, c.SQSQueueURL = "", "https://sqs.eu-west-1.amazonaws.com/1/q"
		require.Equal(t, int64(64<<20), c.ReportRotateSize(), "queue mode: 64 MiB unless given")
		zero := config.ByteSize(0)
		c.ReportMaxSize = &zero
		require.Zero(t, c.ReportRotateSize(), "an explicit 0 never rotates")
		require.NoError(t, c.Validate())
	})
	t.Run("file, flags and print", func(t *testing.T) {
		t.Parallel()
		c := config.Default()
		require.NoError(t, c.Apply([]byte("sqs-queue-url: q\nreport-max-size: 2KiB\nreport-keep: 3\n")))
		require.Equal(t, int64(2048), c.ReportRotateSize())
		require.Equal(t, 3, c.ReportKeep)
		require.NoError(t, c.Apply([]byte(`report-max-size: "4096"`+"\n")), "a flag value arrives as a string")
		require.Equal(t, int64(4096), c.ReportRotateSize())
		require.NoError(t, c.Apply([]byte("report-max-size: 8192\n")))
		y, err := c.YAML()
		require.NoError(t, err)
		require.Contains(t, string(y), "report-max-size: 8KiB\n")
		var back config.Config
		require.NoError(t, back.Apply(y))
		require.Equal(t, c.ReportRotateSize(), back.ReportRotateSize())
		require.Equal(t, c.ReportKeep, back.ReportKeep)

		err = c.Apply([]byte("report-max-size: lots\n"))
		require.ErrorContains(t, err, "report-max-size")
		d := config.Default()
		y, err = d.YAML()
		require.NoError(t, err)
		require.NotContains(t, string(y), "report-max-size", "unset: the mode decides")
	})
	t.Run("validate names the field", func(t *testing.T) {
		t.Parallel()
		size := func(b config.ByteSize) *config.ByteSize { return &b }
		queue := func(c *config.Config) {
			c.CSV, c.SQSQueueURL = "", "https://sqs.us-east-1.amazonaws.com/000000000000/q"
		}
		for _, tc := range []struct {
			name  string
			mut   func(*config.Config)
			field string
		}{
			{"tiny", func(c *config.Config) { queue(c); c.ReportMaxSize = size(64) }, "report-max-size"},
			{"csv campaign", func(c *config.Config) { c.ReportMaxSize = size(64 << 20) }, "report-max-size"},
			{"keep negative", func(c *config.Config) { c.ReportKeep = -1 }, "report-keep"},
		} {
			c := validConfig()
			tc.mut(&c)
			var fe *config.FieldError
			require.ErrorAs(t, c.Validate(), &fe, tc.name)
			require.Equal(t, tc.field, fe.Field, tc.name)
		}
		c := validConfig()
		queue(&c)
		c.ReportMaxSize, c.ReportKeep = size(1024), 0
		require.NoError(t, c.Validate())
		c = validConfig()
		c.ReportMaxSize = size(0)
		require.NoError(t, c.Validate(), "0 is fine in any mode")
	})
}
