package records_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cognito-resend/cognito-resend/worker/job"
	"github.com/cognito-resend/cognito-resend/worker/records"
)

const reportHeader = "username,status,attempts,error_code,error_message,delivery_medium,destination,attribute_name,request_id,source_ref,started_at,finished_at,message"

func sampleResult() job.Result {
	plus2 := time.FixedZone("UTC+2", 2*3600)
	return job.Result{
		Username:       "alice",
		Status:         job.StatusFailed,
		Attempts:       3,
		ErrorCode:      "CodeDeliveryFailureException",
		ErrorMessage:   "bad, \"quoted\"\nmessage",
		DeliveryMedium: "EMAIL",
		Destination:    "a***@e***",
		AttributeName:  "email",
		RequestID:      "req-1",
		SourceRef:      "42",
		StartedAt:      time.Date(2025, 3, 4, 7, 6, 7, 0, plus2),
		FinishedAt:     time.Date(2025, 3, 4, 5, 6, 8, 500_000_000, time.UTC),
		Class:          job.ClassPerUser,
		Fix:            "never written",
	}
}

func TestReportColumns(t *testing.T) {
	t.Parallel()

	require.Equal(t, reportHeader, strings.Join(records.Columns, ","))
}

func TestCSVReport(t *testing.T) {
	t.Parallel()

	var buf bytes.Buffer
	w, err := records.NewWriter(&buf, records.FormatCSV)
	require.NoError(t, err)
	require.NoError(t, w.Write(sampleResult()))
	require.NoError(t, w.Write(job.Result{Username: "bob", Status: job.StatusSent, Attempts: 1}))
	// Buffered until Sync.
	require.Equal(t, 0, buf.Len())
	require.NoError(t, w.Sync())

	want := reportHeader + "\n" +
		"alice,failed,3,CodeDeliveryFailureException,\"bad, \"\"quoted\"\" message\",EMAIL,a***@e***,email,req-1,42,2025-03-04T05:06:07Z,2025-03-04T05:06:08.5Z,\n" +
		"bob,sent,1,,,,,,,,,,\n"
	require.Equal(t, want, buf.String())

	recs, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 3)
	require.Equal(t, records.Columns, recs[0])
	// Every record stays on one physical line (resume parses line by line).
	require.Equal(t, "bad, \"quoted\" message", recs[1][4])
	require.Len(t, strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n"), 3)
	for _, ts := range recs[1][10:12] {
		parsed, err := time.Parse(time.RFC3339, ts)
		require.NoError(t, err)
		require.Equal(t, time.UTC, parsed.Location())
	}
	require.NoError(t, w.Close())
}

func TestCSVReportOneLine(t *testing.T) {
	t.Parallel()

	var buf bytes.Buffer
	w, err := records.NewWriter(&buf, records.FormatCSV)
	require.NoError(t, err)
	require.NoError(t, w.Write(job.Result{Username: "a\r\nb", Status: job.StatusInvalidInput, ErrorMessage: "x\ry\nz\r\n"}))
	require.NoError(t, w.Write(job.Result{Username: "c", Status: job.StatusSent}))
	require.NoError(t, w.Sync())
	require.Equal(t, reportHeader+"\na b,invalid_input,0,,x y z ,,,,,,,,\nc,sent,0,,,,,,,,,,\n", buf.String())
}

func TestJSONLReport(t *testing.T) {
	t.Parallel()

	var buf bytes.Buffer
	w, err := records.NewWriter(&buf, records.FormatJSONL)
	require.NoError(t, err)
	require.NoError(t, w.Write(sampleResult()))
	require.NoError(t, w.Write(job.Result{Username: "bob", Status: job.StatusSent, Attempts: 1}))
	require.NoError(t, w.Close())

	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	require.Len(t, lines, 2) // no header
	require.Equal(t, `{"username":"alice","status":"failed","attempts":3,"error_code":"CodeDeliveryFailureException","error_message":"bad, \"quoted\"\nmessage","delivery_medium":"EMAIL","destination":"a***@e***","attribute_name":"email","request_id":"req-1","source_ref":"42","started_at":"2025-03-04T05:06:07Z","finished_at":"2025-03-04T05:06:08.5Z","message":""}`, lines[0])
	require.Equal(t, `{"username":"bob","status":"sent","attempts":1,"error_code":"","error_message":"","delivery_medium":"","destination":"","attribute_name":"","request_id":"","source_ref":"","started_at":"","finished_at":"","message":""}`, lines[1])

	// Key order is exactly ReportColumns, for every line.
	for _, line := range lines {
		require.Equal(t, records.Columns, jsonKeys(t, line))
	}
}

func jsonKeys(t *testing.T, line string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, k.(string))
		var v json.RawMessage
		require.NoError(t, dec.Decode(&v))
	}
	return keys
}

func TestNewReportWriterUnknownFormat(t *testing.T) {
	t.Parallel()

	_, err := records.NewWriter(io.Discard, records.Format("xml"))
	require.EqualError(t, err, `unknown report format "xml"`)
}

func TestFormatForPath(t *testing.T) {
	t.Parallel()

	for path, want := range map[string]records.Format{
		"r.csv": records.FormatCSV, "dir.x/R.CSV": records.FormatCSV,
		"r.jsonl": records.FormatJSONL, "r.ndjson": records.FormatJSONL, "r.JSONL": records.FormatJSONL,
	} {
		got, err := records.FormatForPath(path)
		require.NoError(t, err, path)
		require.Equal(t, want, got, path)
	}
	for _, path := range []string{"r.txt", "r", "r.json", "csv"} {
		_, err := records.FormatForPath(path)
		require.EqualError(t, err, `report "`+path+`": extension must be .csv, .jsonl or .ndjson`)
	}
}

func TestOpenReport(t *testing.T) {
	t.Parallel()

	t.Run("creates 0600 with header", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "r.csv")
		w, err := records.OpenReport(path, false)
		require.NoError(t, err)
		st, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
		require.NoError(t, w.Write(job.Result{Username: "alice", Status: job.StatusSent, Attempts: 1}))
		require.NoError(t, w.Sync())
		require.Equal(t, reportHeader+"\nalice,sent,1,,,,,,,,,,\n", readFile(t, path))
		require.NoError(t, w.Close())
	})
	t.Run("close flushes", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "r.jsonl")
		w, err := records.OpenReport(path, false)
		require.NoError(t, err)
		require.NoError(t, w.Write(job.Result{Username: "alice", Status: job.StatusSent}))
		require.NoError(t, w.Close())
		require.Equal(t, `{"username":"alice","status":"sent","attempts":0,"error_code":"","error_message":"","delivery_medium":"","destination":"","attribute_name":"","request_id":"","source_ref":"","started_at":"","finished_at":"","message":""}`+"\n", readFile(t, path))
	})
	t.Run("refuses existing file", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "r.csv")
		require.NoError(t, os.WriteFile(path, []byte("precious\n"), 0o644))
		w, err := records.OpenReport(path, false)
		require.Nil(t, w)
		require.EqualError(t, err, "report "+path+" already exists: use --resume to continue that campaign or choose another --report")
		require.Equal(t, "precious\n", readFile(t, path))
	})
	t.Run("refuses existing empty file", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "r.csv")
		require.NoError(t, os.WriteFile(path, nil, 0o600))
		_, err := records.OpenReport(path, false)
		require.ErrorContains(t, err, "already exists")
	})
	t.Run("bad extension creates nothing", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "r.txt")
		_, err := records.OpenReport(path, false)
		require.ErrorContains(t, err, "extension must be .csv, .jsonl or .ndjson")
		_, err = os.Stat(path)
		require.ErrorIs(t, err, os.ErrNotExist)
	})
	t.Run("missing directory", func(t *testing.T) {
		t.Parallel()
		_, err := records.OpenReport(filepath.Join(t.TempDir(), "nope", "r.csv"), false)
		require.ErrorContains(t, err, "open report:")
		require.ErrorIs(t, err, os.ErrNotExist)
	})
	t.Run("append without second header", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "r.csv")
		w, err := records.OpenReport(path, false)
		require.NoError(t, err)
		require.NoError(t, w.Write(job.Result{Username: "alice", Status: job.StatusSent, Attempts: 1}))
		require.NoError(t, w.Close())

		w, err = records.OpenReport(path, true)
		require.NoError(t, err)
		require.NoError(t, w.Write(job.Result{Username: "bob", Status: job.StatusSent, Attempts: 2}))
		require.NoError(t, w.Close())
		require.Equal(t, reportHeader+"\nalice,sent,1,,,,,,,,,,\nbob,sent,2,,,,,,,,,,\n", readFile(t, path))
	})
	t.Run("append ends a torn CSV line", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "r.csv")
		require.NoError(t, os.WriteFile(path, []byte(reportHeader+"\nalice,sent,1,,,,,,,,,,\nbob,se"), 0o600))
		w, err := records.OpenReport(path, true)
		require.NoError(t, err)
		require.NoError(t, w.Write(job.Result{Username: "carol", Status: job.StatusSent, Attempts: 1}))
		require.NoError(t, w.Close())
		require.Equal(t, reportHeader+"\nalice,sent,1,,,,,,,,,,\nbob,se\ncarol,sent,1,,,,,,,,,,\n", readFile(t, path))
	})
	t.Run("append ends a torn JSONL line", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "r.jsonl")
		require.NoError(t, os.WriteFile(path, []byte(`{"username":"al`), 0o600))
		w, err := records.OpenReport(path, true)
		require.NoError(t, err)
		require.NoError(t, w.Write(job.Result{Username: "bob", Status: job.StatusSent}))
		require.NoError(t, w.Close())
		lines := strings.Split(readFile(t, path), "\n")
		require.Len(t, lines, 3)
		require.Equal(t, `{"username":"al`, lines[0])
		require.True(t, strings.HasPrefix(lines[1], `{"username":"bob","status":"sent",`), lines[1])
		require.Equal(t, "", lines[2])
	})
	t.Run("append to a report begun before the message column keeps its width", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "r.csv")
		old := strings.TrimSuffix(reportHeader, ",message") + "\nalice,sent,1,,,,,,,,,\n"
		require.NoError(t, os.WriteFile(path, []byte(old), 0o600))
		w, err := records.OpenReport(path, true)
		require.NoError(t, err)
		require.NoError(t, w.Write(job.Result{Username: "bob", Status: job.StatusSent, Attempts: 1, Message: job.MessageInvitation}))
		require.NoError(t, w.Close())
		require.Equal(t, old+"bob,sent,1,,,,,,,,,\n", readFile(t, path), "one header, one width: old readers keep reading it")
		var got []job.Result
		rows, skipped, err := records.ReadRows(path, func(r job.Result) { got = append(got, r) })
		require.NoError(t, err)
		require.Equal(t, 2, rows)
		require.Zero(t, skipped)
		require.Equal(t, job.Message(""), got[1].Message)
	})
	t.Run("the message column reads back", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "r.csv")
		w, err := records.OpenReport(path, false)
		require.NoError(t, err)
		require.NoError(t, w.Write(job.Result{Username: "adam", Status: job.StatusSent, Attempts: 1, Message: job.MessageInvitation}))
		require.NoError(t, w.Write(job.Result{Username: "alice", Status: job.StatusSent, Attempts: 1, Message: job.MessageConfirmation}))
		require.NoError(t, w.Close())
		require.Equal(t, reportHeader+"\nadam,sent,1,,,,,,,,,,invitation\nalice,sent,1,,,,,,,,,,confirmation\n", readFile(t, path))
		var got []job.Message
		_, _, err = records.ReadRows(path, func(r job.Result) { got = append(got, r.Message) })
		require.NoError(t, err)
		require.Equal(t, []job.Message{job.MessageInvitation, job.MessageConfirmation}, got)
	})
	t.Run("append to a missing file creates it with header", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "r.csv")
		w, err := records.OpenReport(path, true)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		require.Equal(t, reportHeader+"\n", readFile(t, path))
		st, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	})
	t.Run("append to an empty file writes the header", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "r.csv")
		require.NoError(t, os.WriteFile(path, nil, 0o600))
		w, err := records.OpenReport(path, true)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		require.Equal(t, reportHeader+"\n", readFile(t, path))
	})
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}
