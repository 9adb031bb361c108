// Package emu starts local AWS emulators for tests and demos:
// cognito-local 5.3.0 (Cognito user pools, plus a ResendConfirmationCode
// implementation added by testenv/cognito-local/launcher.cjs), fauxqs 2.4.1
// (SQS) and dynalite 4.0.0 (DynamoDB, in memory), all run on a private Node 22
// binary from testenv/node_modules.
//
// Every server runs in its own temporary directory, listens on 127.0.0.1 on a
// port picked by the kernel, logs to a file inside that directory and is
// killed (whole process group) by Close. The emulator also exits by itself when
// the Go process that started it dies, because it watches a stdin pipe.
//
// The npm dependencies are installed on first use by running
// testenv/install.sh (guarded by a lock file), so `go test` alone works on a
// fresh clone as long as npm can reach its registry.
package emu

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// TestenvDirEnv overrides the location of the testenv directory (the one with
// package.json, install.sh and node_modules).
const TestenvDirEnv = "COGNITO_RESEND_TESTENV_DIR"

const (
	// Region is the region all helper clients use.
	Region = "us-east-1"
	// AccessKeyID and SecretAccessKey are the dummy static credentials used
	// with the emulators (neither emulator checks signatures).
	AccessKeyID     = "test"
	SecretAccessKey = "test"

	defaultStartTimeout = 30 * time.Second
	pollInterval        = 50 * time.Millisecond
	logTailBytes        = 4096
	logFileName         = "emulator.log"
	portFileName        = "port"
)

// Server is a running emulator.
type Server struct {
	// Endpoint is the base URL, e.g. "http://127.0.0.1:41234".
	Endpoint string
	// Port is the TCP port on 127.0.0.1.
	Port int
	// Dir is the temporary working directory (removed by Close).
	Dir string
	// LogFile is the path of the emulator's combined stdout/stderr.
	LogFile string

	name    string
	cmd     *exec.Cmd
	stdinW  *os.File
	exited  chan struct{}
	waitErr error

	closeOnce sync.Once
	closeErr  error
}

// Option configures StartCognito / StartSQS / StartDynamo.
type Option func(*startConfig)

type startConfig struct {
	timeout    time.Duration
	port       int
	env        []string
	tableDelay time.Duration // dynalite only; <0 = dynalite's default
}

// WithStartTimeout bounds how long to wait for the emulator to become ready
// (default 30s).
func WithStartTimeout(d time.Duration) Option {
	return func(c *startConfig) { c.timeout = d }
}

// WithPort makes the emulator listen on a fixed port instead of one picked by
// the kernel.
func WithPort(port int) Option {
	return func(c *startConfig) { c.port = port }
}

// WithEnv adds KEY=VALUE environment variables for the emulator process. For
// example cognito-local uses CODE=123456 as every confirmation code when set,
// and DEBUG=1 turns on debug logging in both emulators.
func WithEnv(kv ...string) Option {
	return func(c *startConfig) { c.env = append(c.env, kv...) }
}

// StartCognito starts cognito-local. ctx only bounds the start-up; the server
// runs until Close.
func StartCognito(ctx context.Context, opts ...Option) (*Server, error) {
	return start(ctx, "cognito-local", filepath.Join("cognito-local", "launcher.cjs"), opts,
		func(dir string, _ startConfig) []string { return []string{"--dir", filepath.Join(dir, "state")} })
}

// StartSQS starts fauxqs (SQS). ctx only bounds the start-up; the server runs
// until Close.
func StartSQS(ctx context.Context, opts ...Option) (*Server, error) {
	return start(ctx, "fauxqs", filepath.Join("fauxqs", "launcher.mjs"), opts, nil)
}

// start runs launcher (relative to the testenv directory) on the private Node;
// extraArgs, when set, adds the emulator's own arguments.
func start(ctx context.Context, name, launcher string, opts []Option, extraArgs func(dir string, cfg startConfig) []string) (*Server, error) {
	cfg := startConfig{timeout: defaultStartTimeout, tableDelay: -1}
	for _, o := range opts {
		o(&cfg)
	}
	testenv, err := TestenvDir()
	if err != nil {
		return nil, err
	}
	if err := EnsureInstalled(ctx); err != nil {
		return nil, err
	}
	node := NodeBinary(testenv)

	dir, err := os.MkdirTemp("", "cognito-resend-"+name+"-*")
	if err != nil {
		return nil, fmt.Errorf("emu: %s: %w", name, err)
	}
	logPath := filepath.Join(dir, logFileName)
	logFile, err := os.Create(logPath)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("emu: %s: %w", name, err)
	}
	defer logFile.Close()

	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("emu: %s: %w", name, err)
	}

	portFile := filepath.Join(dir, portFileName)
	args := []string{
		"--disable-warning=ExperimentalWarning",
		filepath.Join(testenv, launcher),
		"--port", strconv.Itoa(cfg.port),
		"--port-file", portFile,
		"--exit-on-stdin-eof",
	}
	if extraArgs != nil {
		args = append(args, extraArgs(dir, cfg)...)
	}
	cmd := exec.Command(node, args...)
	cmd.Dir = dir
	cmd.Stdin = stdinR
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Env = append(os.Environ(), cfg.env...)
	setProcessGroup(cmd)

	if err := cmd.Start(); err != nil {
		stdinR.Close()
		stdinW.Close()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("emu: start %s: %w", name, err)
	}
	stdinR.Close()

	s := &Server{
		Dir:     dir,
		LogFile: logPath,
		name:    name,
		cmd:     cmd,
		stdinW:  stdinW,
		exited:  make(chan struct{}),
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	if err := s.waitReady(ctx, portFile, cfg.timeout); err != nil {
		tail := s.logTail()
		_ = s.Close()
		if ctx.Err() != nil {
			// Stopped by the caller (a Ctrl-C): not the emulator's failure, nor a timeout.
			return nil, fmt.Errorf("emu: %s: start interrupted: %w", name, context.Cause(ctx))
		}
		return nil, fmt.Errorf("emu: %s did not start: %w\n--- %s log (tail) ---\n%s", name, err, name, tail)
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context, portFile string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		if s.Port == 0 {
			if b, err := os.ReadFile(portFile); err == nil {
				p, err := strconv.Atoi(strings.TrimSpace(string(b)))
				if err != nil || p <= 0 {
					return fmt.Errorf("bad port file content %q", b)
				}
				s.Port = p
				s.Endpoint = "http://127.0.0.1:" + strconv.Itoa(p)
			}
		}
		if s.Port != 0 && healthy(ctx, client, s.Endpoint+"/health") {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("process exited early: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %w", timeout, ctx.Err())
		case <-ticker.C:
		}
	}
}

func healthy(ctx context.Context, client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Logs returns the emulator's output so far (cognito-local logs every
// delivered confirmation code there).
func (s *Server) Logs() (string, error) {
	b, err := os.ReadFile(s.LogFile)
	return string(b), err
}

func (s *Server) logTail() string {
	b, err := os.ReadFile(s.LogFile)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", s.LogFile, err)
	}
	if len(b) > logTailBytes {
		b = b[len(b)-logTailBytes:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// Close stops the emulator (SIGTERM to its process group, SIGKILL after 3s)
// and removes its temporary directory. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		select {
		case <-s.exited:
		default:
			terminate(s.cmd)
			select {
			case <-s.exited:
			case <-time.After(3 * time.Second):
				kill(s.cmd)
				<-s.exited
			}
		}
		s.stdinW.Close()
		if err := os.RemoveAll(s.Dir); err != nil {
			s.closeErr = fmt.Errorf("emu: %s: remove %s: %w", s.name, s.Dir, err)
		}
	})
	return s.closeErr
}

// ---------------------------------------------------------------------------
// testenv location and npm installation
// ---------------------------------------------------------------------------

// TestenvDir returns the repository's testenv directory: $COGNITO_RESEND_TESTENV_DIR
// if set, otherwise <dir containing go.mod, searched upwards from the working
// directory>/testenv, otherwise the testenv directory this package was built from.
func TestenvDir() (string, error) {
	if d := os.Getenv(TestenvDirEnv); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			return "", fmt.Errorf("emu: %s: %w", TestenvDirEnv, err)
		}
		if _, err := os.Stat(filepath.Join(abs, "package.json")); err != nil {
			return "", fmt.Errorf("emu: %s=%s has no package.json: %w", TestenvDirEnv, d, err)
		}
		return abs, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("emu: %w", err)
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			td := filepath.Join(dir, "testenv")
			if _, err := os.Stat(filepath.Join(td, "package.json")); err != nil {
				return "", fmt.Errorf("emu: %s has no package.json (set %s)", td, TestenvDirEnv)
			}
			return td, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			// Fall back to where this source file was compiled from (works for
			// `go run` from outside the repository on the same machine).
			if _, file, _, ok := runtime.Caller(0); ok {
				td := filepath.Dir(filepath.Dir(file))
				if _, err := os.Stat(filepath.Join(td, "package.json")); err == nil {
					return td, nil
				}
			}
			return "", fmt.Errorf("emu: no go.mod found above %s (set %s)", wd, TestenvDirEnv)
		}
		dir = parent
	}
}

// NodeBinary returns the Node 22 binary installed by testenv/install.sh.
func NodeBinary(testenvDir string) string {
	return filepath.Join(testenvDir, "node_modules", "node", "bin", "node")
}

const installStamp = ".cognito-resend-install-stamp"

// emulatorPackages are the files install.sh's up_to_date check also requires.
var emulatorPackages = []string{
	filepath.Join("node_modules", "cognito-local", "package.json"),
	filepath.Join("node_modules", "fauxqs", "package.json"),
	filepath.Join("node_modules", "dynalite", "package.json"),
}

var installMu sync.Mutex

func installed(testenv string) bool {
	st, err := os.Stat(filepath.Join(testenv, "node_modules", installStamp))
	if err != nil {
		return false
	}
	for _, f := range []string{"package.json", "package-lock.json"} {
		fi, err := os.Stat(filepath.Join(testenv, f))
		if err != nil || fi.ModTime().After(st.ModTime()) {
			return false
		}
	}
	if _, err := os.Stat(NodeBinary(testenv)); err != nil {
		return false
	}
	for _, f := range emulatorPackages {
		if _, err := os.Stat(filepath.Join(testenv, f)); err != nil {
			return false
		}
	}
	return true
}

// EnsureInstalled runs testenv/install.sh unless the npm dependencies are
// already installed and up to date. Concurrent callers (also in other
// processes, e.g. `go test ./...`) are serialised by a lock file.
func EnsureInstalled(ctx context.Context) error {
	testenv, err := TestenvDir()
	if err != nil {
		return err
	}
	if installed(testenv) {
		return nil
	}
	installMu.Lock()
	defer installMu.Unlock()

	sum := sha256.Sum256([]byte(testenv))
	lockPath := filepath.Join(os.TempDir(), "cognito-resend-install-"+hex.EncodeToString(sum[:8])+".lock")
	unlock, err := lockFile(lockPath)
	if err != nil {
		return fmt.Errorf("emu: lock %s: %w", testenv, err)
	}
	defer unlock()
	if installed(testenv) {
		return nil
	}
	script := filepath.Join(testenv, "install.sh")
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Dir = testenv
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("emu: %s failed (run it by hand to see why): %w\n%s", script, err, out)
	}
	if !installed(testenv) {
		return errors.New("emu: " + script + " succeeded but the emulators are still not installed")
	}
	return nil
}
