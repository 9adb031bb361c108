package deploy_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// The part of the Kubernetes API the deploy kit uses. Unknown fields are ignored when
// decoding; the tests below look only at what can drift from the program.

type objectMeta struct {
	Name        string            `yaml:"name"`
	Namespace   string            `yaml:"namespace"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type object struct {
	File       string
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   objectMeta `yaml:"metadata"`
	Data       map[string]string
	Node       *yaml.Node
}

type seccomp struct {
	Type string `yaml:"type"`
}

type podSecurityContext struct {
	RunAsNonRoot   *bool    `yaml:"runAsNonRoot"`
	RunAsUser      *int64   `yaml:"runAsUser"`
	RunAsGroup     *int64   `yaml:"runAsGroup"`
	FSGroup        *int64   `yaml:"fsGroup"`
	SeccompProfile *seccomp `yaml:"seccompProfile"`
}

type containerSecurityContext struct {
	RunAsNonRoot             *bool    `yaml:"runAsNonRoot"`
	RunAsUser                *int64   `yaml:"runAsUser"`
	ReadOnlyRootFilesystem   *bool    `yaml:"readOnlyRootFilesystem"`
	AllowPrivilegeEscalation *bool    `yaml:"allowPrivilegeEscalation"`
	Privileged               *bool    `yaml:"privileged"`
	SeccompProfile           *seccomp `yaml:"seccompProfile"`
	Capabilities             *struct {
		Add  []string `yaml:"add"`
		Drop []string `yaml:"drop"`
	} `yaml:"capabilities"`
}

type keyRef struct {
	Name     string `yaml:"name"`
	Key      string `yaml:"key"`
	Optional *bool  `yaml:"optional"`
}

type envVar struct {
	Name      string  `yaml:"name"`
	Value     *string `yaml:"value"`
	ValueFrom *struct {
		SecretKeyRef    *keyRef `yaml:"secretKeyRef"`
		ConfigMapKeyRef *keyRef `yaml:"configMapKeyRef"`
		FieldRef        *struct {
			FieldPath string `yaml:"fieldPath"`
		} `yaml:"fieldRef"`
		ResourceFieldRef *struct {
			Resource string `yaml:"resource"`
		} `yaml:"resourceFieldRef"`
	} `yaml:"valueFrom"`
}

type envFromSource struct {
	Prefix       string  `yaml:"prefix"`
	ConfigMapRef *keyRef `yaml:"configMapRef"`
	SecretRef    *keyRef `yaml:"secretRef"`
}

type probe struct {
	HTTPGet *struct {
		Path string    `yaml:"path"`
		Port yaml.Node `yaml:"port"`
	} `yaml:"httpGet"`
	TCPSocket           *struct{} `yaml:"tcpSocket"`
	Exec                *struct{} `yaml:"exec"`
	InitialDelaySeconds int       `yaml:"initialDelaySeconds"`
	PeriodSeconds       *int      `yaml:"periodSeconds"`
	TimeoutSeconds      *int      `yaml:"timeoutSeconds"`
	FailureThreshold    *int      `yaml:"failureThreshold"`
}

// every is how often the probe runs, failing is how many failures in a row count
// (Kubernetes' defaults: 10s, 3).
func (p *probe) every() time.Duration {
	return time.Duration(orDefault(p.PeriodSeconds, 10)) * time.Second
}
func (p *probe) failing() int { return orDefault(p.FailureThreshold, 3) }

func orDefault(v *int, d int) int {
	if v == nil {
		return d
	}
	return *v
}

type labelSelector struct {
	MatchLabels      map[string]string `yaml:"matchLabels"`
	MatchExpressions []any             `yaml:"matchExpressions"`
}

type topologySpread struct {
	MaxSkew           int           `yaml:"maxSkew"`
	TopologyKey       string        `yaml:"topologyKey"`
	WhenUnsatisfiable string        `yaml:"whenUnsatisfiable"`
	LabelSelector     labelSelector `yaml:"labelSelector"`
}

type container struct {
	Name       string          `yaml:"name"`
	Image      string          `yaml:"image"`
	Command    []string        `yaml:"command"`
	Args       []string        `yaml:"args"`
	WorkingDir string          `yaml:"workingDir"`
	Env        []envVar        `yaml:"env"`
	EnvFrom    []envFromSource `yaml:"envFrom"`
	Ports      []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	StartupProbe   *probe `yaml:"startupProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext *containerSecurityContext `yaml:"securityContext"`
	VolumeMounts    []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		SubPath   string `yaml:"subPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
}

type volume struct {
	Name     string `yaml:"name"`
	EmptyDir *struct {
		SizeLimit string `yaml:"sizeLimit"`
	} `yaml:"emptyDir"`
	PersistentVolumeClaim *struct {
		ClaimName string `yaml:"claimName"`
	} `yaml:"persistentVolumeClaim"`
	ConfigMap *struct {
		Name string `yaml:"name"`
	} `yaml:"configMap"`
	Secret *struct {
		SecretName string `yaml:"secretName"`
	} `yaml:"secret"`
}

type podSpec struct {
	ServiceAccountName            string              `yaml:"serviceAccountName"`
	AutomountServiceAccountToken  *bool               `yaml:"automountServiceAccountToken"`
	TopologySpreadConstraints     []topologySpread    `yaml:"topologySpreadConstraints"`
	RestartPolicy                 string              `yaml:"restartPolicy"`
	TerminationGracePeriodSeconds *int64              `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               *podSecurityContext `yaml:"securityContext"`
	InitContainers                []container         `yaml:"initContainers"`
	Containers                    []container         `yaml:"containers"`
	Volumes                       []volume            `yaml:"volumes"`
}

// workload is a pod template and what owns it.
type workload struct {
	Obj          *object
	Spec         podSpec
	Labels       map[string]string // pod template labels
	Replicas     *int
	MaxSurge     *yaml.Node
	BackoffLimit *int
}

func (w workload) String() string {
	return fmt.Sprintf("%s %s/%s", w.Obj.File, w.Obj.Kind, w.Obj.Metadata.Name)
}

// restartable: Kubernetes may start the same container again in the same pod (and so
// with the same emptyDir) or start another pod of the same campaign.
func (w workload) restartable() bool {
	if w.Obj.Kind == "Job" || w.Obj.Kind == "CronJob" {
		return w.Spec.RestartPolicy != "Never" || w.BackoffLimit == nil || *w.BackoffLimit != 0
	}
	return true
}

func (w workload) allContainers() []container {
	return append(append([]container{}, w.Spec.InitContainers...), w.Spec.Containers...)
}

// loadObjects decodes every Kubernetes document under deploy/kubernetes.
func loadObjects(t *testing.T) []*object {
	t.Helper()
	var objs []*object
	for _, f := range filesUnder(t, k8sDir, ".yaml", ".yml") {
		dec := yaml.NewDecoder(bytes.NewReader(readFile(t, f)))
		for i := 1; ; i++ {
			var n yaml.Node
			err := dec.Decode(&n)
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, "%s: document %d", f, i)
			if len(n.Content) == 0 {
				continue
			}
			o := &object{File: f, Node: &n}
			require.NoError(t, n.Decode(o), "%s: document %d", f, i)
			if d := mapGet(&n, "data"); d != nil && o.Kind == "ConfigMap" {
				require.NoError(t, d.Decode(&o.Data), "%s: ConfigMap %s data", f, o.Metadata.Name)
			}
			objs = append(objs, o)
		}
	}
	require.NotEmpty(t, objs)
	return objs
}

func findObject(objs []*object, kind, name string) *object {
	for _, o := range objs {
		if o.Kind == kind && o.Metadata.Name == name {
			return o
		}
	}
	return nil
}

// workloads extracts every pod template.
func workloads(t *testing.T, objs []*object) []workload {
	t.Helper()
	var out []workload
	for _, o := range objs {
		var tmpl *yaml.Node
		w := workload{Obj: o}
		switch o.Kind {
		case "Pod":
			tmpl = o.Node.Content[0]
		case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
			tmpl = path(o.Node, "spec", "template")
		case "CronJob":
			tmpl = path(o.Node, "spec", "jobTemplate", "spec", "template")
		default:
			continue
		}
		require.NotNil(t, tmpl, "%s %s: no pod template", o.File, o.Metadata.Name)
		require.NotNil(t, mapGet(tmpl, "spec"), "%s %s: no pod spec", o.File, o.Metadata.Name)
		require.NoError(t, mapGet(tmpl, "spec").Decode(&w.Spec), "%s %s", o.File, o.Metadata.Name)
		if l := path(tmpl, "metadata", "labels"); l != nil {
			require.NoError(t, l.Decode(&w.Labels))
		}
		if r := path(o.Node, "spec", "replicas"); r != nil {
			n, err := strconv.Atoi(r.Value)
			require.NoError(t, err)
			w.Replicas = &n
		}
		w.MaxSurge = path(o.Node, "spec", "strategy", "rollingUpdate", "maxSurge")
		bl := path(o.Node, "spec", "backoffLimit")
		if o.Kind == "CronJob" {
			bl = path(o.Node, "spec", "jobTemplate", "spec", "backoffLimit")
		}
		if bl != nil {
			n, err := strconv.Atoi(bl.Value)
			require.NoError(t, err)
			w.BackoffLimit = &n
		}
		out = append(out, w)
	}
	require.NotEmpty(t, out, "no pod templates under %s", k8sDir)
	return out
}

// envSetting is one environment variable a container gets, and where from.
type envSetting struct {
	Value   string // literal value, when known
	Literal bool   // Value is meaningful (value: or a ConfigMap key)
	From    string // "value", "configMap NAME", "secretKeyRef NAME/KEY", ...
}

// containerEnv resolves a container's environment: envFrom ConfigMaps first (in order),
// then env, as Kubernetes does. A ConfigMap or a Secret referenced by envFrom must be
// defined in the kit, or the variable names could not be checked.
func containerEnv(t *testing.T, objs []*object, w workload, c container) map[string]envSetting {
	t.Helper()
	env := map[string]envSetting{}
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			cm := findObject(objs, "ConfigMap", ef.ConfigMapRef.Name)
			if cm == nil {
				t.Errorf("%s container %s: envFrom ConfigMap %q is not defined under %s", w, c.Name, ef.ConfigMapRef.Name, k8sDir)
				continue
			}
			for k, v := range cm.Data {
				env[ef.Prefix+k] = envSetting{Value: v, Literal: true, From: "configMap " + cm.Metadata.Name}
			}
		case ef.SecretRef != nil:
			t.Errorf("%s container %s: envFrom secretRef %q: its variable names can't be checked; use env[].valueFrom.secretKeyRef", w, c.Name, ef.SecretRef.Name)
		}
	}
	for _, e := range c.Env {
		s := envSetting{From: "value"}
		switch {
		case e.Value != nil:
			s.Value, s.Literal = *e.Value, true
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			s.From = "secretKeyRef " + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		case e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil:
			s.From = "configMapKeyRef " + e.ValueFrom.ConfigMapKeyRef.Name + "/" + e.ValueFrom.ConfigMapKeyRef.Key
			if cm := findObject(objs, "ConfigMap", e.ValueFrom.ConfigMapKeyRef.Name); cm != nil {
				if v, ok := cm.Data[e.ValueFrom.ConfigMapKeyRef.Key]; ok {
					s.Value, s.Literal = v, true
				}
			}
		case e.ValueFrom != nil:
			s.From = "valueFrom"
		}
		env[e.Name] = s
	}
	return env
}

// parsedArgs is a container's command line as cognito-resend sees it.
type parsedArgs struct {
	Subcommand string
	Flags      map[string]string // --name=value or --name value; "true" for a bare bool
	Unknown    []string          // flags the help does not list
	Positional []string
}

// parseArgs reads args (the ENTRYPOINT is the binary) with the help's flag table, so that
// "--rate 10" consumes its value and "--exit-when-empty" does not.
func parseArgs(t *testing.T, c container) parsedArgs {
	t.Helper()
	flags := runFlags(t)
	p := parsedArgs{Flags: map[string]string{}}
	args := c.Args
	if len(c.Command) > 0 {
		// Overriding the ENTRYPOINT: it must still be the binary.
		require.Equal(t, "/"+binaryName, c.Command[0], "container %s: command must run /%s", c.Name, binaryName)
		args = append(append([]string{}, c.Command[1:]...), c.Args...)
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		p.Subcommand, args = args[0], args[1:]
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			p.Positional = append(p.Positional, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f, ok := flags[name]
		if !ok {
			p.Unknown = append(p.Unknown, a)
			continue
		}
		if !hasVal {
			if f.Type == "" {
				val = "true"
			} else if i+1 < len(args) {
				i++
				val = args[i]
			}
		}
		p.Flags[f.Name] = val
	}
	return p
}

// setting is the effective value of a flag for a container: argv wins over the
// environment (as urfave/cli resolves it); ok is false when neither sets it.
func setting(t *testing.T, objs []*object, w workload, c container, flag string) (value, source string, ok bool) {
	t.Helper()
	if v, ok := parseArgs(t, c).Flags[flag]; ok {
		return v, "argument --" + flag, true
	}
	f, known := runFlags(t)[flag]
	require.True(t, known, "flag --%s is not in the help", flag)
	env := containerEnv(t, objs, w, c)
	for _, name := range f.Envs {
		if s, ok := env[name]; ok {
			require.True(t, s.Literal, "%s container %s: %s (from %s) must be a literal to be checked", w, c.Name, name, s.From)
			return s.Value, "env " + name + " (" + s.From + ")", true
		}
	}
	return "", "", false
}

// containerPort resolves a probe's port (a name or a number) to a number.
func containerPort(c container, port yaml.Node) (int, string, error) {
	if n, err := strconv.Atoi(port.Value); err == nil {
		for _, p := range c.Ports {
			if p.ContainerPort == n {
				return n, p.Name, nil
			}
		}
		return n, "", nil
	}
	for _, p := range c.Ports {
		if p.Name == port.Value {
			return p.ContainerPort, p.Name, nil
		}
	}
	return 0, "", fmt.Errorf("no containerPort named %q", port.Value)
}

// metricsPort parses --metrics-addr (host:port). The host must accept the kubelet's
// probes on the pod IP: empty, 0.0.0.0 or ::.
func metricsPort(addr string) (int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	switch host {
	case "", "0.0.0.0", "::":
	default:
		return 0, fmt.Errorf("host %q: the kubelet probes the pod IP, bind all interfaces (e.g. :%s)", host, port)
	}
	return strconv.Atoi(port)
}

// mountFor returns the volume mount that holds an absolute path, if any.
func mountFor(w workload, c container, p string) (mountPath string, vol *volume, readOnly bool) {
	p = filepath.Clean(p)
	best := ""
	var bestRO bool
	var bestVol *volume
	for _, m := range c.VolumeMounts {
		mp := filepath.Clean(m.MountPath)
		if (p == mp || strings.HasPrefix(p, mp+"/")) && len(mp) > len(best) {
			best, bestRO = mp, m.ReadOnly
			for i := range w.Spec.Volumes {
				if w.Spec.Volumes[i].Name == m.Name {
					bestVol = &w.Spec.Volumes[i]
				}
			}
		}
	}
	return best, bestVol, bestRO
}

func parseDuration(t *testing.T, s, what string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	require.NoError(t, err, what)
	return d
}
