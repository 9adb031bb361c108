// Command release builds cognito-resend's release archives (`make release`):
//
//	dist/cognito-resend_<version>_<os>_<arch>.tar.gz   linux, darwin (amd64, arm64)
//	dist/cognito-resend_<version>_windows_<arch>.zip   windows (amd64, arm64)
//	dist/cognito-resend_<version>_lambda_<arch>.zip    AWS Lambda, provided.al2023 (arm64, amd64)
//	dist/SHA256SUMS                                    sha256sum -c format
//
// Each archive holds one directory, cognito-resend_<version>_<os>_<arch>/, with the
// binary, README.md and LICENSE. A Lambda zip holds only `bootstrap` at its root (the
// linux binary built with -tags lambda.norpc, which Lambda's provided.al2023 runs as
// `cognito-resend lambda`: docs/lambda.md), as Lambda wants it.
//
// Reproducible: the same commit gives byte-identical archives. The binaries are built
// with CGO_ENABLED=0, -trimpath, -buildvcs=false, an empty build id and fixed
// GOAMD64/GOARM64 levels, stamped with the version, the commit and the commit's date
// (never the clock; SOURCE_DATE_EPOCH overrides it, as reproducible-builds.org
// specifies). The archives are written here with archive/tar, compress/gzip and
// archive/zip so that every header field is fixed: entry order, mode, owner 0:0 with no
// names, mtime = the commit date, no gzip name or time. GNU tar's --sort/--mtime flags
// would do the same for the tarballs but not on macOS's bsdtar, and zip(1) stores local
// times and extra fields; GoReleaser can be configured to do all this but is a large
// tool to build for six `go build`s and three files per archive.
//
// -check only cross-compiles the six targets (CI), without archives.
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	project = "cognito-resend"
	mainPkg = "./cmd/cognito-resend"
	sumFile = "SHA256SUMS"
)

// Target is one GOOS/GOARCH of the release.
type Target struct{ OS, Arch string }

// Targets is every platform a release ships.
var Targets = []Target{
	{"linux", "amd64"}, {"linux", "arm64"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
}

// LambdaArchs are the architectures of the Lambda zips (Lambda's arm64 and x86_64).
var LambdaArchs = []string{"arm64", "amd64"}

// lambdaTags drops aws-lambda-go's net/rpc entry point (the retired go1.x runtime's).
const lambdaTags = "lambda.norpc"

// LambdaArchiveName is the file name of an architecture's Lambda zip.
func LambdaArchiveName(version, arch string) string {
	return fmt.Sprintf("%s_%s_lambda_%s.zip", project, strings.TrimPrefix(version, "v"), arch)
}

// Docs are the files every archive carries beside the binary, from the repository root.
var Docs = []string{"README.md", "LICENSE"}

func (t Target) exe() string {
	if t.OS == "windows" {
		return project + ".exe"
	}
	return project
}

func (t Target) ext() string {
	if t.OS == "windows" {
		return ".zip"
	}
	return ".tar.gz"
}

// Stamp is what a release binary is stamped with.
type Stamp struct {
	Version, Commit string
	Date            time.Time // UTC, whole seconds
}

// ArchiveBase is an archive's name without extension, also its top directory.
func ArchiveBase(version string, t Target) string {
	return fmt.Sprintf("%s_%s_%s_%s", project, strings.TrimPrefix(version, "v"), t.OS, t.Arch)
}

// ArchiveName is the file name of a target's archive.
func ArchiveName(version string, t Target) string { return ArchiveBase(version, t) + t.ext() }

func main() {
	dist := flag.String("dist", "dist", "output directory")
	version := flag.String("version", "", "the release's version, such as v1.2.3 (default: HEAD's tag)")
	check := flag.Bool("check", false, "only cross-compile every target (no archives)")
	flag.Parse()
	if err := run(*dist, *version, *check, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(dist, version string, check bool, out io.Writer) error {
	st, err := stampFromGit(version, !check) // a cross-compile check needs no version
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "cognito-resend-release-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if check {
		for _, t := range Targets {
			if err := build(st, t, filepath.Join(tmp, t.OS+"-"+t.Arch, t.exe())); err != nil {
				return err
			}
			fmt.Fprintf(out, "ok  %s/%s\n", t.OS, t.Arch)
		}
		for _, arch := range LambdaArchs {
			if err := build(st, Target{"linux", arch}, filepath.Join(tmp, "lambda-"+arch, "bootstrap"), lambdaTags); err != nil {
				return err
			}
			fmt.Fprintf(out, "ok  lambda/%s\n", arch)
		}
		return nil
	}
	if strings.HasSuffix(st.Version, "-dirty") {
		fmt.Fprintln(os.Stderr, "release: warning: the work tree has uncommitted changes; these archives are not those of", st.Commit)
	}
	docs := map[string][]byte{}
	for _, d := range Docs {
		if docs[d], err = os.ReadFile(d); err != nil {
			return fmt.Errorf("%s must be in every archive: %w", d, err)
		}
	}
	if err := cleanDist(dist); err != nil {
		return err
	}
	var sums strings.Builder
	names := make([]string, 0, len(Targets))
	byName := map[string]string{}
	// emit writes one archive into dist and notes its checksum for SHA256SUMS.
	emit := func(name string, data []byte) error {
		if err := os.WriteFile(filepath.Join(dist, name), data, 0o644); err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		byName[name] = hex.EncodeToString(sum[:])
		names = append(names, name)
		fmt.Fprintf(out, "%-52s %9d bytes\n", name, len(data))
		return nil
	}
	for _, t := range Targets {
		bin := filepath.Join(tmp, t.OS+"-"+t.Arch, t.exe())
		if err := build(st, t, bin); err != nil {
			return err
		}
		exe, err := os.ReadFile(bin)
		if err != nil {
			return err
		}
		name := ArchiveName(st.Version, t)
		data, err := archive(st, t, exe, docs)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := emit(name, data); err != nil {
			return err
		}
	}
	for _, arch := range LambdaArchs {
		bin := filepath.Join(tmp, "lambda-"+arch, "bootstrap")
		if err := build(st, Target{"linux", arch}, bin, lambdaTags); err != nil {
			return err
		}
		exe, err := os.ReadFile(bin)
		if err != nil {
			return err
		}
		name := LambdaArchiveName(st.Version, arch)
		data, err := lambdaZip(st, exe)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := emit(name, data); err != nil {
			return err
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&sums, "%s  %s\n", byName[n], n)
	}
	if err := os.WriteFile(filepath.Join(dist, sumFile), []byte(sums.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s  (version %s, commit %s, date %s)\n", filepath.Join(dist, sumFile),
		st.Version, st.Commit, st.Date.Format(time.RFC3339))
	return nil
}

// versionRE is a release version: semantic versioning, with or without a leading v
// (v1.2.3, 1.2.3-rc.1, v2.0.0+build.5).
var versionRE = regexp.MustCompile(`^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// stampFromGit reads the commit and its committer date from git (SOURCE_DATE_EPOCH, when
// set, is the date). The version is the one given, else HEAD's tag (git tag v1.2.3);
// a release (needVersion) has one or fails: archives named after a commit hash are no
// release. A work tree with uncommitted changes gets "-dirty" appended.
func stampFromGit(version string, needVersion bool) (Stamp, error) {
	git := func(args ...string) (string, error) {
		b, err := exec.Command("git", args...).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, ee.Stderr)
			}
			return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	var st Stamp
	var err error
	if st.Commit, err = git("rev-parse", "HEAD"); err != nil {
		return st, err
	}
	epoch := os.Getenv("SOURCE_DATE_EPOCH")
	if epoch == "" {
		if epoch, err = git("log", "-1", "--format=%ct", "HEAD"); err != nil {
			return st, err
		}
	}
	sec, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return st, fmt.Errorf("commit date %q: %w", epoch, err)
	}
	st.Date = time.Unix(sec, 0).UTC()
	st.Version = version
	if st.Version == "" {
		// HEAD's own tag only: "v1.2.3-4-gabc1234" (describe's "after the tag") names no release.
		tag, err := git("describe", "--tags", "--exact-match", "HEAD")
		switch {
		case err == nil:
			st.Version = tag
		case needVersion:
			return st, fmt.Errorf("HEAD (%.12s) has no tag: tag the release (git tag v1.2.3) or name its version "+
				"(VERSION=v1.2.3 make release)", st.Commit)
		default:
			st.Version = "dev"
		}
	}
	if needVersion && !versionRE.MatchString(st.Version) {
		return st, fmt.Errorf("version %q: want a semantic version such as v1.2.3 or 1.2.3-rc.1", st.Version)
	}
	if dirty, err := git("status", "--porcelain", "--untracked-files=no"); err == nil && dirty != "" {
		st.Version += "-dirty"
	}
	return st, nil
}

// LDFlags are the linker flags of a release binary.
func LDFlags(st Stamp) string {
	return fmt.Sprintf("-s -w -buildid= -X main.version=%s -X main.commit=%s -X main.date=%s",
		st.Version, st.Commit, st.Date.Format(time.RFC3339))
}

func build(st Stamp, t Target, out string, tags ...string) error {
	args := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags", LDFlags(st)}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command("go", append(args, "-o", out, mainPkg)...)
	// Everything that changes the output is fixed here, whatever the caller's environment.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+t.OS, "GOARCH="+t.Arch,
		"GOAMD64=v1", "GOARM64=v8.0", "GOFLAGS=-mod=readonly", "GOEXPERIMENT=")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s/%s: %w", t.OS, t.Arch, err)
	}
	return nil
}

// cleanDist creates dist, removing the artefacts of an earlier release (and nothing else).
func cleanDist(dist string) error {
	if err := os.MkdirAll(dist, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(dist)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if n := e.Name(); n == sumFile || (strings.HasPrefix(n, project+"_") && (strings.HasSuffix(n, ".tar.gz") || strings.HasSuffix(n, ".zip"))) {
			if err := os.Remove(filepath.Join(dist, n)); err != nil {
				return err
			}
		}
	}
	return nil
}

type entry struct {
	name string
	mode int64
	data []byte
}

// archive packs the binary and the docs under one top directory, in a fixed order with
// fixed metadata.
func archive(st Stamp, t Target, exe []byte, docs map[string][]byte) ([]byte, error) {
	dir := ArchiveBase(st.Version, t) + "/"
	files := []entry{{dir + t.exe(), 0o755, exe}}
	for _, d := range Docs {
		files = append(files, entry{dir + d, 0o644, docs[d]})
	}
	if t.OS == "windows" {
		return zipArchive(st.Date, dir, files)
	}
	return tarGz(st.Date, dir, files)
}

// lambdaZip is a Lambda deployment package: bootstrap, executable, at the root.
func lambdaZip(st Stamp, exe []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: st.Date}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(exe); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func tarGz(mtime time.Time, dir string, files []entry) ([]byte, error) {
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression) // header: no name, no mtime
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	hdr := func(name string, typ byte, mode, size int64) *tar.Header {
		return &tar.Header{Typeflag: typ, Name: name, Mode: mode, Size: size, ModTime: mtime,
			Uid: 0, Gid: 0, Format: tar.FormatUSTAR}
	}
	if err := tw.WriteHeader(hdr(dir, tar.TypeDir, 0o755, 0)); err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := tw.WriteHeader(hdr(f.name, tar.TypeReg, f.mode, int64(len(f.data)))); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func zipArchive(mtime time.Time, dir string, files []entry) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, mode os.FileMode, method uint16) (io.Writer, error) {
		h := &zip.FileHeader{Name: name, Method: method, Modified: mtime}
		h.SetMode(mode)
		return zw.CreateHeader(h)
	}
	if _, err := add(dir, os.ModeDir|0o755, zip.Store); err != nil {
		return nil, err
	}
	for _, f := range files {
		w, err := add(f.name, os.FileMode(f.mode), zip.Deflate)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
