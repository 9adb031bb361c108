package poolsource

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-resend/cognito-resend/worker/userpool"
)

// A pool snapshot is one listing of the pool, beside the report (SnapshotPath): the
// census the prompt and --dry-run show is counted from it, the campaign consumes it, and
// --resume reads it back instead of listing again. It is compact text, one user a line:
//
//	cognito-resend pool snapshot {"version":1,"user_pool_id":…,"statuses":[…],…}
//	0e "alice"     status index in statuses, e (enabled) or d (disabled), the quoted username
//	…
//	end 2 users 1 pages 1 skipped sha256 9f86d0…
//
// The trailer is written last, and the file is renamed into place once synced: a file
// without it (a copy cut short, a full disk) is incomplete, and is listed again. The
// trailer carries the SHA-256 of every line before it: a snapshot whose lines were
// edited, swapped or lost since (a hand edit that kept the count) is changed, never
// read as the campaign's users, and is listed again too.

// SnapshotPath is where the pool snapshot of the report at reportPath lives.
func SnapshotPath(reportPath string) string { return reportPath + ".pool" }

// snapshotMagic starts a snapshot's first line.
const snapshotMagic = "cognito-resend pool snapshot "

// Header is what a snapshot is a listing of.
type Header struct {
	Version    int      `json:"version"`
	UserPoolID string   `json:"user_pool_id"`
	Statuses   []string `json:"statuses"`
	// CreatedAfter and CreatedBefore are the options as given (a duration such as 72h is
	// kept as written: the same command finds the same snapshot).
	CreatedAfter  string    `json:"created_after,omitempty"`
	CreatedBefore string    `json:"created_before,omitempty"`
	ListedAt      time.Time `json:"listed_at"`
}

// SameListing reports whether h lists what want asks for (not when, nor which pool:
// the caller tells another pool apart, which is an operator's mistake, not staleness).
func (h Header) SameListing(want Header) bool {
	return strings.Join(h.Statuses, ",") == strings.Join(want.Statuses, ",") &&
		h.CreatedAfter == want.CreatedAfter && h.CreatedBefore == want.CreatedBefore
}

// Listing is a complete snapshot: its header and what its trailer counts.
type Listing struct {
	Header
	// Users written (the users inside the creation window); Skipped: listed but outside
	// it (or nameless); Pages: the ListUsers calls the listing made.
	Users, Skipped int
	Pages          int64
}

// ErrIncomplete is a snapshot without its trailer: the listing that wrote it did not
// finish (or a copy of it was cut short).
var ErrIncomplete = errors.New("the pool snapshot is incomplete")

// ErrChanged is a snapshot with a trailer that does not match its lines (their count or
// their SHA-256), or lines that are not a snapshot's: it was changed or damaged since it
// was written (an earlier version's trailer, without a checksum, can't be checked
// either).
var ErrChanged = errors.New("the pool snapshot was changed or damaged since it was written")

// snapshotVersion 2: the trailer carries the checksum.
const snapshotVersion = 2

// Window bounds UserCreateDate (zero: unbounded).
type Window struct{ After, Before time.Time }

func (w Window) holds(created time.Time) bool {
	if created.IsZero() {
		return true
	}
	return (w.After.IsZero() || !created.Before(w.After)) && (w.Before.IsZero() || created.Before(w.Before))
}

// List lists the pool (lister.List over h.Statuses) into the snapshot at path: written
// beside it, synced, then renamed into place, so path holds either the old file or a
// complete new one.
func List(ctx context.Context, lister *userpool.Lister, path string, h Header, w Window) (Listing, error) {
	h.Version = snapshotVersion
	index := map[types.UserStatusType]int{}
	for i, st := range h.Statuses {
		index[types.UserStatusType(st)] = i
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) // usernames: not world-readable
	if err != nil {
		return Listing{}, err
	}
	defer os.Remove(tmp) // after the rename: nothing
	defer f.Close()
	sum := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, sum), 64<<10)
	head, _ := json.Marshal(h)
	fmt.Fprintf(bw, "%s%s\n", snapshotMagic, head)
	l := Listing{Header: h}
	before := lister.Pages()
	err = lister.List(ctx, h.Statuses, func(u types.UserType) error {
		i, ok := index[u.UserStatus]
		if !ok || u.Username == nil || !w.holds(aws.ToTime(u.UserCreateDate)) {
			l.Skipped++ // a state outside the filter (Cognito's filter is the listing's word), or outside the window
			return nil
		}
		en := 'd'
		if u.Enabled {
			en = 'e'
		}
		l.Users++
		_, err := fmt.Fprintf(bw, "%d%c %s\n", i, en, strconv.Quote(*u.Username))
		return err
	})
	l.Pages = lister.Pages() - before
	if err != nil {
		return Listing{}, err
	}
	if err := bw.Flush(); err != nil {
		return Listing{}, err
	}
	// The trailer, after every line it sums (f directly: not into the sum).
	if _, err := fmt.Fprintf(f, "end %d users %d pages %d skipped sha256 %x\n", l.Users, l.Pages, l.Skipped, sum.Sum(nil)); err != nil {
		return Listing{}, err
	}
	if err := f.Sync(); err != nil {
		return Listing{}, err
	}
	if err := f.Close(); err != nil {
		return Listing{}, err
	}
	return l, os.Rename(tmp, path)
}

// Check reads the snapshot at path to its end: its header and counts when complete,
// ErrIncomplete when it has no trailer, ErrChanged when
// the trailer does not match the lines before it, an error wrapping os.ErrNotExist when
// there is none.
func Check(path string) (Listing, error) {
	r, err := openSnapshot(path)
	if err != nil {
		return Listing{}, cutShort(path, err)
	}
	defer r.close()
	for {
		_, err := r.next()
		if errors.Is(err, io.EOF) {
			return r.listing, nil
		}
		if err != nil {
			return r.listing, cutShort(path, err)
		}
	}
}

// cutShort turns a snapshot found wrong into ErrIncomplete when it has no end line at
// all (its listing did not finish, or a copy of it was cut short): only a snapshot with
// a trailer that does not match is changed.
func cutShort(path string, err error) error {
	if !errors.Is(err, ErrChanged) {
		return err
	}
	f, ferr := os.Open(path)
	if ferr != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if bytes.HasPrefix(sc.Bytes(), []byte("end ")) {
			return err
		}
	}
	return fmt.Errorf("%s: no end line: %w", path, ErrIncomplete)
}

// snapshotReader reads a snapshot's users one by one, summing the lines it reads.
type snapshotReader struct {
	f       *os.File
	sc      *bufio.Scanner
	path    string
	listing Listing
	lines   int
	ended   bool
	sum     hash.Hash
}

func openSnapshot(path string) (*snapshotReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	r := &snapshotReader{f: f, sc: sc, path: path, sum: sha256.New()}
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), snapshotMagic) {
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s: its first line is not a pool snapshot's: %w", path, ErrChanged)
	}
	r.summed(sc.Bytes())
	if err := json.Unmarshal([]byte(strings.TrimPrefix(sc.Text(), snapshotMagic)), &r.listing.Header); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: header: %v: %w", path, err, ErrChanged)
	}
	return r, nil
}

func (r *snapshotReader) close() { r.f.Close() }

// summed adds a line (and its newline) to the checksum.
func (r *snapshotReader) summed(line []byte) {
	r.sum.Write(line)
	r.sum.Write([]byte{'\n'})
}

// next returns the next user's name and state; io.EOF after a complete snapshot's last.
func (r *snapshotReader) next() (user, error) {
	for r.sc.Scan() {
		line := r.sc.Text()
		if r.ended {
			return user{}, fmt.Errorf("%s: a line after the end line: %w", r.path, ErrChanged)
		}
		if strings.HasPrefix(line, "end ") {
			var l Listing
			var sum string
			if _, err := fmt.Sscanf(line, "end %d users %d pages %d skipped sha256 %s", &l.Users, &l.Pages, &l.Skipped, &sum); err != nil {
				return user{}, fmt.Errorf("%s: its end line %q carries no checksum of its lines: %w", r.path, line, ErrChanged)
			}
			if l.Users != r.lines {
				return user{}, fmt.Errorf("%s: its end line counts %d users, %d read: %w", r.path, l.Users, r.lines, ErrChanged)
			}
			if got := hex.EncodeToString(r.sum.Sum(nil)); got != sum {
				return user{}, fmt.Errorf("%s: its lines' SHA-256 is %s, its end line says %s: %w", r.path, got, sum, ErrChanged)
			}
			r.listing.Users, r.listing.Pages, r.listing.Skipped, r.ended = l.Users, l.Pages, l.Skipped, true
			continue
		}
		r.summed(r.sc.Bytes())
		u, ok := r.parse(line)
		if !ok {
			return user{}, fmt.Errorf("%s: line %d is not a user: %w", r.path, r.lines+2, ErrChanged)
		}
		r.lines++
		return u, nil
	}
	if err := r.sc.Err(); err != nil {
		return user{}, err
	}
	if !r.ended {
		return user{}, fmt.Errorf("%s: no end line: %w", r.path, ErrIncomplete) // cut short since Check
	}
	return user{}, io.EOF
}

type user struct {
	name   string
	status string
	on     bool
}

func (r *snapshotReader) parse(line string) (user, bool) {
	code, quoted, ok := strings.Cut(line, " ")
	if !ok || len(code) < 2 {
		return user{}, false
	}
	i, err := strconv.Atoi(code[:len(code)-1])
	if err != nil || i < 0 || i >= len(r.listing.Statuses) {
		return user{}, false
	}
	en := code[len(code)-1]
	name, err := strconv.Unquote(quoted)
	if err != nil || (en != 'e' && en != 'd') {
		return user{}, false
	}
	return user{name: name, status: r.listing.Statuses[i], on: en == 'e'}, true
}
