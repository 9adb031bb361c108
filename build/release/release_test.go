package main

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const repoRoot = "../.."

// archived is one entry of a release archive, whatever its format.
type archived struct {
	Name     string
	Mode     os.FileMode // permission bits
	Dir      bool
	ModTime  time.Time
	Uid, Gid int // -1 for zip, which has none
	Data     []byte
}

func readTarGz(t *testing.T, data []byte) []archived {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	require.Empty(t, gz.Name, "gzip header: no file name")
	require.True(t, gz.ModTime.IsZero(), "gzip header: no mtime")
	tr := tar.NewReader(gz)
	var out []archived
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		require.Empty(t, h.Uname+h.Gname, "%s: no owner names", h.Name)
		out = append(out, archived{Name: h.Name, Mode: os.FileMode(h.Mode).Perm(), Dir: h.Typeflag == tar.TypeDir,
			ModTime: h.ModTime, Uid: h.Uid, Gid: h.Gid, Data: b})
	}
	return out
}

func readZip(t *testing.T, data []byte) []archived {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	require.Empty(t, zr.Comment)
	var out []archived
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
		out = append(out, archived{Name: f.Name, Mode: f.Mode().Perm(), Dir: f.Mode().IsDir(),
			ModTime: f.Modified, Uid: -1, Gid: -1, Data: b})
	}
	return out
}

func readArchive(t *testing.T, name string, data []byte) []archived {
	if strings.HasSuffix(name, ".zip") {
		return readZip(t, data)
	}
	return readTarGz(t, data)
}

// checkBinary reads the executable's header: the format, machine and static linking
// must be those of the target.
func checkBinary(t *testing.T, tg Target, data []byte) {
	t.Helper()
	r := bytes.NewReader(data)
	switch tg.OS {
	case "linux":
		f, err := elf.NewFile(r)
		require.NoError(t, err, "linux/%s: not an ELF file", tg.Arch)
		want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[tg.Arch]
		require.Equal(t, want, f.Machine, "linux/%s: ELF machine", tg.Arch)
		require.Equal(t, elf.ELFCLASS64, f.Class)
		for _, p := range f.Progs {
			require.NotEqual(t, elf.PT_INTERP, p.Type, "linux/%s: dynamically linked (CGO_ENABLED=0 must give a static binary)", tg.Arch)
		}
	case "darwin":
		f, err := macho.NewFile(r)
		require.NoError(t, err, "darwin/%s: not a (thin) Mach-O file", tg.Arch)
		want := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[tg.Arch]
		require.Equal(t, want, f.Cpu, "darwin/%s: Mach-O cputype", tg.Arch)
		require.Equal(t, macho.TypeExec, f.Type)
	case "windows":
		f, err := pe.NewFile(r)
		require.NoError(t, err, "windows/%s: not a PE file", tg.Arch)
		want := map[string]uint16{"amd64": pe.IMAGE_FILE_MACHINE_AMD64, "arm64": pe.IMAGE_FILE_MACHINE_ARM64}[tg.Arch]
		require.Equal(t, want, f.FileHeader.Machine, "windows/%s: PE machine", tg.Arch)
		oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
		require.True(t, ok, "windows/%s: PE32+ expected", tg.Arch)
		require.Equal(t, uint16(pe.IMAGE_SUBSYSTEM_WINDOWS_CUI), oh.Subsystem, "a console program")
	default:
		t.Fatalf("no header check for %s", tg.OS)
	}
}

// The archive writers are deterministic and write exactly the entries and metadata the
// release promises (fast: no build).
func TestArchiveLayout(t *testing.T) {
	st := Stamp{Version: "v1.2.3", Commit: strings.Repeat("ab", 20), Date: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	docs := map[string][]byte{"README.md": []byte("# readme\n"), "LICENSE": []byte("license\n")}
	for _, tg := range []Target{{"linux", "amd64"}, {"windows", "arm64"}} {
		t.Run(tg.OS, func(t *testing.T) {
			a, err := archive(st, tg, []byte("binary"), docs)
			require.NoError(t, err)
			b, err := archive(st, tg, []byte("binary"), docs)
			require.NoError(t, err)
			require.Equal(t, a, b, "same input, same bytes")
			later := st
			later.Date = st.Date.Add(time.Second)
			c, err := archive(later, tg, []byte("binary"), docs)
			require.NoError(t, err)
			require.NotEqual(t, a, c, "the mtime is the stamp's date, so it must show in the bytes")

			dir := ArchiveBase(st.Version, tg) + "/"
			require.Equal(t, "cognito-resend_1.2.3_"+tg.OS+"_"+tg.Arch+"/", dir)
			entries := readArchive(t, ArchiveName(st.Version, tg), a)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name)
				require.True(t, e.ModTime.Equal(st.Date), "%s: mtime %s", e.Name, e.ModTime)
				if e.Uid != -1 {
					require.Equal(t, [2]int{0, 0}, [2]int{e.Uid, e.Gid}, e.Name)
				}
			}
			require.Equal(t, []string{dir, dir + tg.exe(), dir + "README.md", dir + "LICENSE"}, names)
			require.Equal(t, os.FileMode(0o755), entries[1].Mode)
			require.Equal(t, os.FileMode(0o644), entries[2].Mode)
			require.Equal(t, []byte("binary"), entries[1].Data)
			require.Equal(t, docs["README.md"], entries[2].Data)
		})
	}
}

// A Lambda zip is bootstrap alone, executable, at the root, with the stamp's date.
func TestLambdaZipLayout(t *testing.T) {
	st := Stamp{Version: "v1.2.3", Commit: strings.Repeat("ab", 20), Date: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	a, err := lambdaZip(st, []byte("binary"))
	require.NoError(t, err)
	b, err := lambdaZip(st, []byte("binary"))
	require.NoError(t, err)
	require.Equal(t, a, b, "same input, same bytes")
	require.Equal(t, "cognito-resend_1.2.3_lambda_arm64.zip", LambdaArchiveName(st.Version, "arm64"))
	entries := readZip(t, a)
	require.Len(t, entries, 1)
	require.Equal(t, "bootstrap", entries[0].Name)
	require.Equal(t, os.FileMode(0o755), entries[0].Mode)
	require.True(t, entries[0].ModTime.Equal(st.Date))
	require.Equal(t, []byte("binary"), entries[0].Data)
}

var lambdaRE = regexp.MustCompile(`^cognito-resend_(.+)_lambda_(amd64|arm64)\.zip$`)

var archiveRE = regexp.MustCompile(`^cognito-resend_(.+)_(linux|darwin|windows)_(amd64|arm64)\.(tar\.gz|zip)$`)

// `make release` twice from the same commit gives identical SHA256SUMS; every archive
// holds a binary of its OS/arch (file header), README.md and LICENSE; the host's binary
// reports the stamped version, commit and commit date.
func TestMakeReleaseIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds six release binaries twice; run without -short")
	}
	dists := []string{t.TempDir(), t.TempDir()}
	for i, d := range dists {
		start := time.Now()
		cmd := exec.Command("make", "--no-print-directory", "-C", repoRoot, "release", "DIST="+d, "VERSION=v1.2.3-test.1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "make release:\n%s", out)
		t.Logf("make release #%d: %s", i+1, time.Since(start).Round(100*time.Millisecond))
	}
	sums := make([][]byte, len(dists))
	for i, d := range dists {
		var err error
		sums[i], err = os.ReadFile(filepath.Join(d, sumFile))
		require.NoError(t, err)
	}
	require.Equal(t, string(sums[0]), string(sums[1]), "two release builds of one commit differ")

	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = repoRoot
		b, err := cmd.Output()
		require.NoError(t, err, "git %v", args)
		return strings.TrimSpace(string(b))
	}
	commit := git("rev-parse", "HEAD")
	epoch, err := strconv.ParseInt(git("log", "-1", "--format=%ct"), 10, 64)
	require.NoError(t, err)
	if e := os.Getenv("SOURCE_DATE_EPOCH"); e != "" {
		epoch, err = strconv.ParseInt(e, 10, 64)
		require.NoError(t, err)
	}
	date := time.Unix(epoch, 0).UTC()
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	require.NoError(t, err)
	license, err := os.ReadFile(filepath.Join(repoRoot, "LICENSE"))
	require.NoError(t, err)

	seen := map[Target]bool{}
	lambdaSeen := map[string]bool{}
	version := ""
	sc := bufio.NewScanner(bytes.NewReader(sums[0]))
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		require.True(t, ok, "SHA256SUMS line %q: want `<sha256>  <file>`", sc.Text())
		if lm := lambdaRE.FindStringSubmatch(name); lm != nil {
			data, err := os.ReadFile(filepath.Join(dists[0], name))
			require.NoError(t, err)
			got := sha256.Sum256(data)
			require.Equal(t, hex.EncodeToString(got[:]), sum, "%s: SHA256SUMS", name)
			entries := readZip(t, data)
			require.Len(t, entries, 1, name)
			require.Equal(t, "bootstrap", entries[0].Name, name)
			require.Equal(t, os.FileMode(0o755), entries[0].Mode, name)
			require.True(t, entries[0].ModTime.Equal(date), name)
			checkBinary(t, Target{"linux", lm[2]}, entries[0].Data)
			lambdaSeen[lm[2]] = true
			t.Logf("%-52s %9d bytes", name, len(data))
			continue
		}
		m := archiveRE.FindStringSubmatch(name)
		require.NotNil(t, m, "unexpected file in SHA256SUMS: %s", name)
		if version == "" {
			version = m[1]
			require.Regexp(t, `^1\.2\.3-test\.1(-dirty)?$`, version, "VERSION=v1.2.3-test.1 names the archives")
		}
		require.Equal(t, version, m[1], "%s: one version for all archives", name)
		tg := Target{m[2], m[3]}
		require.False(t, seen[tg], "%s twice", name)
		seen[tg] = true
		require.Equal(t, tg.ext(), "."+m[4], "%s: zip for Windows, tar.gz elsewhere", name)

		data, err := os.ReadFile(filepath.Join(dists[0], name))
		require.NoError(t, err)
		got := sha256.Sum256(data)
		require.Equal(t, hex.EncodeToString(got[:]), sum, "%s: SHA256SUMS", name)
		t.Logf("%-52s %9d bytes", name, len(data))

		entries := readArchive(t, name, data)
		dir := strings.TrimSuffix(strings.TrimSuffix(name, ".zip"), ".tar.gz") + "/"
		files := map[string][]byte{}
		for _, e := range entries {
			require.True(t, strings.HasPrefix(e.Name, dir), "%s: %s is outside %s", name, e.Name, dir)
			require.True(t, e.ModTime.Equal(date), "%s: %s mtime %s, want the commit date %s", name, e.Name, e.ModTime, date)
			if !e.Dir {
				files[strings.TrimPrefix(e.Name, dir)] = e.Data
			}
		}
		require.ElementsMatch(t, []string{tg.exe(), "README.md", "LICENSE"}, keys(files), name)
		require.Equal(t, readme, files["README.md"], "%s: README.md", name)
		require.Equal(t, license, files["LICENSE"], "%s: LICENSE", name)
		checkBinary(t, tg, files[tg.exe()])

		if tg.OS == runtime.GOOS && tg.Arch == runtime.GOARCH {
			bin := filepath.Join(t.TempDir(), tg.exe())
			require.NoError(t, os.WriteFile(bin, files[tg.exe()], 0o755))
			out, err := exec.Command(bin, "version").CombinedOutput()
			require.NoError(t, err, "%s", out)
			require.Regexp(t, `(?m)^cognito-resend v?`+regexp.QuoteMeta(version)+`$`, string(out)) // file names drop a tag's "v"
			require.Contains(t, string(out), "commit: "+commit+"\n")
			require.Contains(t, string(out), "date: "+date.Format(time.RFC3339)+"\n")
		}
	}
	require.NoError(t, sc.Err())
	require.Len(t, seen, len(Targets), "one archive per target: %v", Targets)
	require.Len(t, lambdaSeen, len(LambdaArchs), "one Lambda zip per architecture: %v", LambdaArchs)
	if _, ok := seen[Target{runtime.GOOS, runtime.GOARCH}]; !ok {
		t.Logf("no release binary for this host (%s/%s): version output not run", runtime.GOOS, runtime.GOARCH)
	}
}

func keys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestReleaseVersion(t *testing.T) {
	for _, v := range []string{"v1.2.3", "1.2.3", "v0.1.0-rc.1", "v2.0.0+build.5", "10.20.30"} {
		require.True(t, versionRE.MatchString(v), v)
	}
	for _, v := range []string{"", "d86761c", "v1.2", "1.2.3.4", "v1.2.3-4-gd86761c dirty", "latest", "v01.2.3", "1.2.3/x"} {
		require.False(t, versionRE.MatchString(v), v)
	}
	_, err := stampFromGit("d86761c", true)
	require.ErrorContains(t, err, `version "d86761c": want a semantic version such as v1.2.3`)
	st, err := stampFromGit("v1.2.3", true)
	require.NoError(t, err)
	require.Regexp(t, `^v1\.2\.3(-dirty)?$`, st.Version)
	st, err = stampFromGit("", false)
	require.NoError(t, err, "a cross-compile check needs no version")
	require.NotEmpty(t, st.Version)
}

// Without VERSION a release takes HEAD's tag, and refuses a commit without one.
func TestReleaseVersionFromTag(t *testing.T) {
	dir := t.TempDir()
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}
	git("init", "-q")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), []byte("1"), 0o600))
	git("add", "f")
	git("commit", "-qm", "one")
	git("tag", "v1.2.3")
	t.Chdir(dir)
	st, err := stampFromGit("", true)
	require.NoError(t, err)
	require.Equal(t, "v1.2.3", st.Version)
	require.Equal(t, "cognito-resend_1.2.3_linux_amd64.tar.gz", ArchiveName(st.Version, Target{"linux", "amd64"}))

	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), []byte("2"), 0o600))
	st, err = stampFromGit("", true)
	require.NoError(t, err)
	require.Equal(t, "v1.2.3-dirty", st.Version, "uncommitted changes are no v1.2.3")

	git("commit", "-qam", "two")
	_, err = stampFromGit("", true)
	require.ErrorContains(t, err, "has no tag: tag the release (git tag v1.2.3) or name its version (VERSION=v1.2.3 make release)")
}
