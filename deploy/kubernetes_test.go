package deploy_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/cognito-resend/cognito-resend/config"
)

// Paths the metrics server serves (--metrics-addr): liveness and readiness.
const (
	livenessPath    = "/healthz"
	readinessPath   = "/readyz"
	metricsPortName = "metrics"
)

// After --shutdown-timeout the program still flushes the report and settles the source
// (queue mode: delete what is done, release what is not). Kubernetes' SIGKILL must leave
// it at least this long.
const settleMargin = 5 * time.Second

// Standard variables read by the AWS SDK (or injected by the EKS pod identity webhook)
// that a manifest may set besides the program's own.
var awsEnv = []string{
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
	"AWS_ROLE_SESSION_NAME", "AWS_STS_REGIONAL_ENDPOINTS", "AWS_USE_FIPS_ENDPOINT",
	"AWS_USE_DUALSTACK_ENDPOINT", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS",
	"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "AWS_EC2_METADATA_DISABLED",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
}

// Every YAML and JSON file of the kit parses; YAML without duplicate keys.
func TestEveryManifestParses(t *testing.T) {
	files := filesUnder(t, ".", ".yaml", ".yml", ".json")
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			if strings.HasSuffix(f, ".json") {
				var v map[string]any
				require.NoError(t, json.Unmarshal(readFile(t, f), &v))
				return
			}
			docs := yamlNodes(t, f)
			require.NotEmpty(t, docs, "no YAML document")
			for _, d := range docs {
				checkNoDuplicateKeys(t, f, d)
			}
		})
	}
	for _, o := range loadObjects(t) {
		assert.NotEmpty(t, o.APIVersion, "%s: a document without apiVersion", o.File)
		assert.NotEmpty(t, o.Kind, "%s: a document without kind", o.File)
		if o.Kind != "Kustomization" {
			assert.NotEmpty(t, o.Metadata.Name, "%s: %s without metadata.name", o.File, o.Kind)
		}
	}
}

// kustomization.yaml lists every manifest but the campaign Job, which must only ever
// run when applied on purpose.
func TestKustomizationListsTheManifests(t *testing.T) {
	var k struct {
		Namespace string   `yaml:"namespace"`
		Resources []string `yaml:"resources"`
		Images    []struct {
			Name string `yaml:"name"`
		} `yaml:"images"`
	}
	require.NoError(t, yaml.Unmarshal(readFile(t, filepath.Join(k8sDir, "kustomization.yaml")), &k))
	for _, r := range k.Resources {
		assert.FileExists(t, filepath.Join(k8sDir, r))
	}
	for _, f := range filesUnder(t, k8sDir, ".yaml", ".yml") {
		base := filepath.Base(f)
		switch {
		case base == "kustomization.yaml":
		case strings.HasPrefix(base, "job-"):
			assert.NotContains(t, k.Resources, base, "%s must not be in the kustomization: `kubectl apply -k` would start a campaign", base)
			// Outside the kustomization nothing sets their namespace or image: the
			// header's commands must name the namespace, and say to edit the image.
			for _, line := range strings.Split(string(readFile(t, f)), "\n") {
				if cmd, ok := strings.CutPrefix(strings.TrimSpace(line), "#"); ok && strings.HasPrefix(strings.TrimSpace(cmd), "kubectl ") &&
					!strings.Contains(cmd, "apply -k") { // the kustomization names its namespace
					assert.Contains(t, cmd, "-n "+k.Namespace, "%s: %q would land in the default namespace", base, cmd)
				}
			}
			assert.Contains(t, string(readFile(t, f)), "the image", "%s: its header must say to set the image (the kustomization's rewrite does not reach it)", base)
		default:
			assert.Contains(t, k.Resources, base, "%s is not listed in kustomization.yaml", base)
		}
	}
	require.NotEmpty(t, k.Images)
	for _, w := range workloads(t, loadObjects(t)) {
		for _, c := range w.allContainers() {
			name, _, _ := strings.Cut(c.Image, ":")
			assert.Equal(t, k.Images[0].Name, name, "%s container %s: image name must be the one kustomization.yaml rewrites", w, c.Name)
		}
	}
}

// Probes hit the paths the metrics server serves, on the port named "metrics", which is
// the port of --metrics-addr, bound on all interfaces.
func TestProbesMatchTheMetricsServer(t *testing.T) {
	objs := loadObjects(t)
	flags := runFlags(t)
	require.Contains(t, flags, "metrics-addr")
	usage := helpLine(t, "--metrics-addr")
	for _, p := range []string{livenessPath, readinessPath} {
		assert.Contains(t, usage, p, "the help of --metrics-addr no longer mentions %s", p)
	}
	t.Run("the code serves the probe paths", func(t *testing.T) {
		for _, p := range []string{livenessPath, readinessPath} {
			// "/healthz" or a method pattern such as "GET /healthz".
			assert.NotEmpty(t, goSourcesContaining(t, p+`"`),
				"no non-test Go file outside deploy/ has a string literal ending in %q: the metrics server does not serve it (yet), so the probes would fail", p)
		}
	})

	queueWorkloads := 0
	for _, w := range workloads(t, objs) {
		for _, c := range w.Spec.Containers {
			_, _, queueMode := setting(t, objs, w, c, "sqs-queue-url")
			hasProbes := c.LivenessProbe != nil || c.ReadinessProbe != nil || c.StartupProbe != nil
			if !queueMode && !hasProbes {
				continue
			}
			if queueMode && w.Obj.Kind == "Deployment" {
				queueWorkloads++
				require.NotNil(t, c.LivenessProbe, "%s container %s: queue worker without a liveness probe", w, c.Name)
				require.NotNil(t, c.ReadinessProbe, "%s container %s: queue worker without a readiness probe", w, c.Name)
			}
			addr, src, ok := setting(t, objs, w, c, "metrics-addr")
			require.True(t, ok, "%s container %s: probes need --metrics-addr (no metrics server otherwise)", w, c.Name)
			port, err := metricsPort(addr)
			require.NoError(t, err, "%s container %s: %s=%q", w, c.Name, src, addr)

			var named []int
			for _, p := range c.Ports {
				if p.Name == metricsPortName {
					named = append(named, p.ContainerPort)
				}
			}
			require.Equal(t, []int{port}, named, "%s container %s: containerPort named %q must be the port of %s=%q", w, c.Name, metricsPortName, src, addr)

			check := func(kind string, p *probe, wantPath string) {
				if p == nil {
					return
				}
				require.NotNil(t, p.HTTPGet, "%s container %s: %s probe must be httpGet", w, c.Name, kind)
				assert.Equal(t, wantPath, p.HTTPGet.Path, "%s container %s: %s probe path", w, c.Name, kind)
				n, name, err := containerPort(c, p.HTTPGet.Port)
				require.NoError(t, err, "%s container %s: %s probe port", w, c.Name, kind)
				assert.Equal(t, port, n, "%s container %s: %s probe port", w, c.Name, kind)
				assert.Equal(t, metricsPortName, name, "%s container %s: %s probe port", w, c.Name, kind)
			}
			check("liveness", c.LivenessProbe, livenessPath)
			check("startup", c.StartupProbe, livenessPath)
			check("readiness", c.ReadinessProbe, readinessPath)
		}
	}
	assert.Positive(t, queueWorkloads, "no queue-mode Deployment found (--sqs-queue-url in args or env)")

	// The metrics Service selects the queue workers and targets the metrics port.
	for _, o := range objs {
		if o.Kind != "Service" {
			continue
		}
		var svc struct {
			Spec struct {
				Selector map[string]string `yaml:"selector"`
				Ports    []struct {
					Name       string    `yaml:"name"`
					TargetPort yaml.Node `yaml:"targetPort"`
				} `yaml:"ports"`
			} `yaml:"spec"`
		}
		require.NoError(t, o.Node.Decode(&svc))
		matched := false
		for _, w := range workloads(t, objs) {
			if !labelsMatch(svc.Spec.Selector, w.Labels) {
				continue
			}
			matched = true
			for _, p := range svc.Spec.Ports {
				_, name, err := containerPort(w.Spec.Containers[0], p.TargetPort)
				require.NoError(t, err, "Service %s port %s", o.Metadata.Name, p.Name)
				assert.Equal(t, metricsPortName, name, "Service %s port %s", o.Metadata.Name, p.Name)
			}
		}
		assert.True(t, matched, "Service %s selects no pod template", o.Metadata.Name)
	}
}

// The grace period outlasts --shutdown-timeout (plus time to settle), or Kubernetes
// kills calls in flight and the report flush.
func TestGracePeriodExceedsShutdownTimeout(t *testing.T) {
	objs := loadObjects(t)
	def := config.Default().ShutdownTimeout
	for _, w := range workloads(t, objs) {
		grace := 30 * time.Second // Kubernetes' default
		if w.Spec.TerminationGracePeriodSeconds != nil {
			grace = time.Duration(*w.Spec.TerminationGracePeriodSeconds) * time.Second
		}
		for _, c := range w.Spec.Containers {
			timeout, src := def, "config.Default().ShutdownTimeout"
			if v, s, ok := setting(t, objs, w, c, "shutdown-timeout"); ok {
				timeout, src = parseDuration(t, v, s), s
			}
			assert.GreaterOrEqual(t, grace, timeout+settleMargin,
				"%s: terminationGracePeriodSeconds %s must exceed --shutdown-timeout %s (%s) by at least %s",
				w, grace, timeout, src, settleMargin)
		}
	}
}

// Every pod runs as the image's non-root user, read-only, without privileges.
func TestPodsRunAsNonRootReadOnly(t *testing.T) {
	uid, _ := imageUser(t)
	for _, w := range workloads(t, loadObjects(t)) {
		psc := w.Spec.SecurityContext
		if psc == nil {
			psc = &podSecurityContext{}
		}
		for _, c := range w.allContainers() {
			sc := c.SecurityContext
			require.NotNil(t, sc, "%s container %s: no securityContext", w, c.Name)
			nonRoot := firstBool(sc.RunAsNonRoot, psc.RunAsNonRoot)
			assert.True(t, nonRoot != nil && *nonRoot, "%s container %s: runAsNonRoot must be true", w, c.Name)
			user := firstInt(sc.RunAsUser, psc.RunAsUser)
			if assert.NotNil(t, user, "%s container %s: runAsUser must be set (numeric)", w, c.Name) {
				assert.NotZero(t, *user, "%s container %s: runAsUser 0 is root", w, c.Name)
				assert.Equal(t, uid, *user, "%s container %s: runAsUser must be the Dockerfile's USER", w, c.Name)
			}
			assert.True(t, sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem, "%s container %s: readOnlyRootFilesystem must be true", w, c.Name)
			assert.True(t, sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation, "%s container %s: allowPrivilegeEscalation must be false", w, c.Name)
			assert.False(t, sc.Privileged != nil && *sc.Privileged, "%s container %s: privileged", w, c.Name)
			if assert.NotNil(t, sc.Capabilities, "%s container %s: capabilities.drop [ALL]", w, c.Name) {
				assert.Equal(t, []string{"ALL"}, sc.Capabilities.Drop, "%s container %s: capabilities.drop", w, c.Name)
				assert.Empty(t, sc.Capabilities.Add, "%s container %s: capabilities.add", w, c.Name)
			}
			prof := sc.SeccompProfile
			if prof == nil {
				prof = psc.SeccompProfile
			}
			assert.True(t, prof != nil && prof.Type == "RuntimeDefault", "%s container %s: seccompProfile RuntimeDefault", w, c.Name)
			for _, r := range []string{"cpu", "memory"} {
				assert.NotEmpty(t, c.Resources.Requests[r], "%s container %s: resources.requests.%s", w, c.Name, r)
			}
			assert.NotEmpty(t, c.Resources.Limits["memory"], "%s container %s: resources.limits.memory", w, c.Name)
		}
	}
}

// The environment of every container names only variables the program reads (the help's
// [$VAR] lists, COGNITO_CLIENT_SECRET) or standard AWS ones; every value parses as its
// flag's type; the secret never comes as a literal.
func TestEnvVarsExistInTheProgram(t *testing.T) {
	objs := loadObjects(t)
	known := envToFlag(t)
	for _, w := range workloads(t, objs) {
		for _, c := range w.allContainers() {
			env := containerEnv(t, objs, w, c)
			for _, name := range sortedKeys(env) {
				s := env[name]
				if name == config.EnvClientSecret {
					assert.True(t, strings.HasPrefix(s.From, "secretKeyRef "), "%s container %s: %s must come from a Secret (secretKeyRef), not %s", w, c.Name, name, s.From)
					continue
				}
				if slices.Contains(awsEnv, name) {
					continue
				}
				f, ok := known[name]
				if !assert.True(t, ok, "%s container %s: env %s (%s) is not read by cognito-resend (not in `run --help`, not %s, not a standard AWS variable)", w, c.Name, name, s.From, config.EnvClientSecret) {
					continue
				}
				if s.Literal {
					assert.NoError(t, checkValue(f, s.Value), "%s container %s: env %s=%q (%s)", w, c.Name, name, s.Value, s.From)
				}
			}
			if _, fromEnv := env[config.EnvClientSecret]; fromEnv {
				_, _, fromFile := setting(t, objs, w, c, "client-secret-file")
				assert.False(t, fromFile, "%s container %s: both %s and --client-secret-file are set; the program refuses that", w, c.Name, config.EnvClientSecret)
			}
		}
	}
	// Every ConfigMap key is an environment variable the program reads, even one no
	// workload uses yet (ConfigMaps mounted as files are exempt).
	mounted := map[string]bool{}
	for _, w := range workloads(t, objs) {
		for _, v := range w.Spec.Volumes {
			if v.ConfigMap != nil {
				mounted[v.ConfigMap.Name] = true
			}
		}
	}
	for _, o := range objs {
		if o.Kind != "ConfigMap" || mounted[o.Metadata.Name] {
			continue
		}
		for k := range o.Data {
			_, ok := known[k]
			assert.True(t, ok || slices.Contains(awsEnv, k), "%s: ConfigMap %s key %s is not a variable cognito-resend reads", o.File, o.Metadata.Name, k)
		}
	}
}

// Every flag in a container's args exists in `run --help`, with a value of its type; the
// secret is never on argv.
func TestArgsFlagsExistInTheProgram(t *testing.T) {
	flags := runFlags(t)
	require.NoError(t, helpErr)
	for _, w := range workloads(t, loadObjects(t)) {
		for _, c := range w.allContainers() {
			p := parseArgs(t, c)
			assert.Equal(t, "run", p.Subcommand, "%s container %s: args must start with the run command", w, c.Name)
			assert.Regexp(t, regexp.MustCompile(`(?m)^\s+run\s`), rootHelp, "`cognito-resend --help` lists no run command")
			assert.Empty(t, p.Unknown, "%s container %s: flags not in `cognito-resend run --help`", w, c.Name)
			assert.Empty(t, p.Positional, "%s container %s: stray arguments", w, c.Name)
			for name, v := range p.Flags {
				assert.NoError(t, checkValue(flags[name], v), "%s container %s: --%s=%q", w, c.Name, name, v)
			}
			for _, a := range append(append([]string{}, c.Command...), c.Args...) {
				l := strings.ToLower(a)
				if strings.Contains(l, "secret") && !strings.HasPrefix(l, "--client-secret-file") {
					t.Errorf("%s container %s: %q: the client secret never goes on the command line", w, c.Name, a)
				}
			}
		}
	}
}

// The report and the CSV are on volumes (the root filesystem is read-only), and a pod
// Kubernetes may restart has a fixed --report name only with --resume (the program
// refuses to overwrite a report, so without it a restarted container would exit 2
// forever).
func TestFilesAreOnVolumes(t *testing.T) {
	objs := loadObjects(t)
	for _, w := range workloads(t, objs) {
		for _, c := range w.Spec.Containers {
			report, src, fixed := setting(t, objs, w, c, "report")
			_, _, resume := setting(t, objs, w, c, "resume")
			if fixed && w.restartable() && !resume {
				t.Errorf("%s container %s: %s=%q in a pod that can restart, without --resume: a restarted container would find the report and exit 2. Add --resume (it appends, and starts the report when there is none), leave --report unset, or make the Job restartPolicy Never, backoffLimit 0", w, c.Name, src, report)
			}
			dir := c.WorkingDir
			if fixed {
				if filepath.IsAbs(report) {
					dir = filepath.Dir(report)
				} else {
					dir = filepath.Join(c.WorkingDir, filepath.Dir(report))
				}
			}
			if !assert.True(t, filepath.IsAbs(dir), "%s container %s: the report's directory is the image's working directory /, which is read-only: set workingDir or an absolute --report on a volume", w, c.Name) {
				continue
			}
			mp, vol, ro := mountFor(w, c, dir)
			if assert.NotNil(t, vol, "%s container %s: report directory %s is not on a volume (read-only root filesystem)", w, c.Name, dir) {
				assert.False(t, ro, "%s container %s: report volume %s is mounted read-only", w, c.Name, mp)
				assert.True(t, vol.EmptyDir != nil || vol.PersistentVolumeClaim != nil, "%s container %s: report volume %s must be an emptyDir or a PVC", w, c.Name, vol.Name)
				if w.Obj.Kind == "Job" {
					assert.NotNil(t, vol.PersistentVolumeClaim, "%s: a campaign's report must outlive the pod: put it on a PVC", w)
				}
				if vol.EmptyDir != nil {
					assert.NotEmpty(t, vol.EmptyDir.SizeLimit, "%s: emptyDir %s needs a sizeLimit (a long-lived report grows)", w, vol.Name)
				}
			}
			if csv, src, ok := setting(t, objs, w, c, "csv"); ok {
				require.NotEqual(t, "-", csv, "%s: a pod has no standard input for --csv -", w)
				_, vol, _ := mountFor(w, c, csv)
				assert.NotNil(t, vol, "%s container %s: %s=%q is not on a mounted volume", w, c.Name, src, csv)
			}
			for _, m := range c.VolumeMounts {
				found := false
				for _, v := range w.Spec.Volumes {
					found = found || v.Name == m.Name
				}
				assert.True(t, found, "%s container %s: volumeMount %s has no volume", w, c.Name, m.Name)
			}
			if claim := pvcClaims(w); len(claim) > 0 {
				for _, name := range claim {
					assert.NotNil(t, findObject(objs, "PersistentVolumeClaim", name), "%s: PVC %s is not defined under %s", w, name, k8sDir)
				}
			}
		}
	}
}

// A campaign Job never retries: a second pod would resend every code the first one sent.
func TestCampaignJobsNeverRetry(t *testing.T) {
	jobs := 0
	objs := loadObjects(t)
	for _, w := range workloads(t, objs) {
		if w.Obj.Kind != "Job" && w.Obj.Kind != "CronJob" {
			continue
		}
		jobs++
		if assert.NotNil(t, w.BackoffLimit, "%s: backoffLimit must be set to 0 (Kubernetes' default is 6 retries)", w) {
			assert.Zero(t, *w.BackoffLimit, "%s: backoffLimit", w)
		}
		assert.Equal(t, "Never", w.Spec.RestartPolicy, "%s: restartPolicy", w)
		// A Job has no terminal: once the program asks for confirmation (issue 6: refuse
		// without a terminal unless --yes), every campaign Job must say yes.
		if _, prompts := runFlags(t)["yes"]; prompts {
			for _, c := range w.Spec.Containers {
				v, _, ok := setting(t, objs, w, c, "yes")
				assert.True(t, ok && v == "true", "%s container %s: pass --yes, or the campaign refuses to start without a terminal", w, c.Name)
			}
		}
	}
	assert.Positive(t, jobs, "no campaign Job under %s", k8sDir)
}

// The service accounts the pods use exist, and the queue workers' carries an IRSA role.
func TestServiceAccounts(t *testing.T) {
	objs := loadObjects(t)
	arn := regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9A-Z_]+:role/[\w+=,.@/-]+$`)
	for _, w := range workloads(t, objs) {
		require.NotEmpty(t, w.Spec.ServiceAccountName, "%s: set serviceAccountName (not the namespace's default)", w)
		sa := findObject(objs, "ServiceAccount", w.Spec.ServiceAccountName)
		require.NotNil(t, sa, "%s: ServiceAccount %s is not defined under %s", w, w.Spec.ServiceAccountName, k8sDir)
		if w.Obj.Kind == "Deployment" {
			assert.Regexp(t, arn, sa.Metadata.Annotations["eks.amazonaws.com/role-arn"], "ServiceAccount %s: eks.amazonaws.com/role-arn", sa.Metadata.Name)
		}
	}
}

// KEDA scales the queue Deployment on the queue length, with an authentication that
// exists, reading the queue URL from the variable the program reads, and never past the
// fleet's rate budget.
func TestKEDAScaledObject(t *testing.T) {
	objs := loadObjects(t)
	urlEnvs := runFlags(t)["sqs-queue-url"].Envs
	require.NotEmpty(t, urlEnvs)
	n := 0
	for _, o := range objs {
		if o.Kind != "ScaledObject" {
			continue
		}
		n++
		var so struct {
			Spec struct {
				ScaleTargetRef struct {
					Kind          string `yaml:"kind"`
					Name          string `yaml:"name"`
					EnvSourceName string `yaml:"envSourceContainerName"`
				} `yaml:"scaleTargetRef"`
				MinReplicaCount *int `yaml:"minReplicaCount"`
				MaxReplicaCount *int `yaml:"maxReplicaCount"`
				Triggers        []struct {
					Type              string            `yaml:"type"`
					Metadata          map[string]string `yaml:"metadata"`
					AuthenticationRef *struct {
						Name string `yaml:"name"`
						Kind string `yaml:"kind"`
					} `yaml:"authenticationRef"`
				} `yaml:"triggers"`
			} `yaml:"spec"`
		}
		require.NoError(t, o.Node.Decode(&so))
		kind := so.Spec.ScaleTargetRef.Kind
		if kind == "" {
			kind = "Deployment"
		}
		var target *workload
		for _, w := range workloads(t, objs) {
			if w.Obj.Kind == kind && w.Obj.Metadata.Name == so.Spec.ScaleTargetRef.Name {
				target = &w
			}
		}
		require.NotNil(t, target, "ScaledObject %s: scaleTargetRef %s/%s is not defined", o.Metadata.Name, kind, so.Spec.ScaleTargetRef.Name)
		assert.Nil(t, target.Replicas, "%s: KEDA owns the replica count; remove spec.replicas", target)
		require.NotNil(t, so.Spec.MaxReplicaCount, "ScaledObject %s: maxReplicaCount (KEDA's default is 100)", o.Metadata.Name)
		require.Len(t, so.Spec.Triggers, 1, "ScaledObject %s", o.Metadata.Name)
		tr := so.Spec.Triggers[0]
		assert.Equal(t, "aws-sqs-queue", tr.Type)
		c := target.Spec.Containers[0]
		env := containerEnv(t, objs, *target, c)
		if v := tr.Metadata["queueURLFromEnv"]; v != "" {
			assert.Contains(t, urlEnvs, v, "ScaledObject %s: queueURLFromEnv must be the variable of --sqs-queue-url", o.Metadata.Name)
			assert.Contains(t, env, v, "ScaledObject %s: queueURLFromEnv %s is not set on %s", o.Metadata.Name, v, target)
		} else {
			url, _, ok := setting(t, objs, *target, c, "sqs-queue-url")
			require.True(t, ok)
			assert.Equal(t, url, tr.Metadata["queueURL"], "ScaledObject %s: queueURL differs from the workers' --sqs-queue-url", o.Metadata.Name)
		}
		ql, err := strconv.Atoi(tr.Metadata["queueLength"])
		if assert.NoError(t, err, "ScaledObject %s: queueLength", o.Metadata.Name) {
			assert.Positive(t, ql)
		}
		assert.Equal(t, "0", tr.Metadata["activationQueueLength"], "ScaledObject %s: activationQueueLength", o.Metadata.Name)
		assert.NotEmpty(t, tr.Metadata["awsRegion"], "ScaledObject %s: awsRegion is required", o.Metadata.Name)
		assert.NotContains(t, tr.Metadata, "identityOwner", "ScaledObject %s: identityOwner is deprecated; use a TriggerAuthentication", o.Metadata.Name)
		if assert.NotNil(t, tr.AuthenticationRef, "ScaledObject %s: authenticationRef", o.Metadata.Name) {
			ta := findObject(objs, "TriggerAuthentication", tr.AuthenticationRef.Name)
			if assert.NotNil(t, ta, "TriggerAuthentication %s is not defined", tr.AuthenticationRef.Name) {
				assert.Equal(t, "aws", path(ta.Node, "spec", "podIdentity", "provider").Value, "TriggerAuthentication %s: podIdentity.provider (aws-eks is removed)", ta.Metadata.Name)
			}
		}

		// Fleet budget: replicas at once (KEDA max + rollout surge) × per-replica rate.
		rate := config.Default().Rate
		if v, src, ok := setting(t, objs, *target, c, "rate"); ok {
			rate, err = strconv.ParseFloat(v, 64)
			require.NoError(t, err, src)
		}
		surge := 1 // Deployment default 25%, rounded up
		if target.MaxSurge != nil {
			surge = surgeOf(t, target.MaxSurge, *so.Spec.MaxReplicaCount)
		}
		fleet := float64(*so.Spec.MaxReplicaCount+surge) * rate
		if v, src, ok := setting(t, objs, *target, c, "fleet-rate"); ok && v != "0" {
			// --fleet-rate: one budget whatever the replica count, shared in the table.
			fleet, err = strconv.ParseFloat(v, 64)
			require.NoError(t, err, src)
			_, _, table := setting(t, objs, *target, c, "ledger-table")
			assert.True(t, table, "%s: --fleet-rate needs --ledger-table", src)
			assert.LessOrEqual(t, fleet, config.Default().Rate, "%s: the fleet rate %v exceeds %v, the single-process default", src, fleet, config.Default().Rate)
			continue
		}
		assert.LessOrEqual(t, fleet, config.Default().Rate,
			"(maxReplicaCount %d + maxSurge %d) × rate %v = %v requests/s exceeds %v, the single-process default kept well under ResendConfirmationCode's default quota (UserResourceRead, 50/s) with headroom",
			*so.Spec.MaxReplicaCount, surge, rate, fleet, config.Default().Rate)
	}
	assert.Equal(t, 1, n, "expected one ScaledObject")
}

// ---------------------------------------------------------------------------------------

func helpLine(t *testing.T, flag string) string {
	t.Helper()
	require.NoError(t, helpErr)
	for _, l := range strings.Split(helpText, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), flag+" ") {
			return l
		}
	}
	t.Fatalf("%s not in the help", flag)
	return ""
}

// checkValue parses a flag's value as urfave/cli would.
func checkValue(f flagInfo, v string) error {
	var err error
	switch f.Type {
	case "string":
	case "":
		_, err = strconv.ParseBool(v)
	case "int":
		_, err = strconv.ParseInt(v, 0, 64)
	case "float":
		_, err = strconv.ParseFloat(v, 64)
	case "duration":
		_, err = time.ParseDuration(v)
	default:
		err = fmt.Errorf("flag --%s has a type (%s) this test does not know", f.Name, f.Type)
	}
	return err
}

func labelsMatch(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func surgeOf(t *testing.T, n *yaml.Node, replicas int) int {
	if p, ok := strings.CutSuffix(n.Value, "%"); ok {
		pct, err := strconv.Atoi(p)
		require.NoError(t, err)
		return int(math.Ceil(float64(replicas) * float64(pct) / 100))
	}
	v, err := strconv.Atoi(n.Value)
	require.NoError(t, err)
	return v
}

func firstBool(a, b *bool) *bool {
	if a != nil {
		return a
	}
	return b
}

func firstInt(a, b *int64) *int64 {
	if a != nil {
		return a
	}
	return b
}

func pvcClaims(w workload) []string {
	var out []string
	for _, v := range w.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			out = append(out, v.PersistentVolumeClaim.ClaimName)
		}
	}
	return out
}

// goSourcesContaining lists the module's non-test Go files outside deploy/ (and the
// emulators) that contain s.
func goSourcesContaining(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(repoRoot, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "deploy", "testenv", "node_modules", ".git", "bin":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), s) {
			out = append(out, p)
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

// A campaign Job's header says how to make every Secret its pods read (trial 4, finding
// 11: the CronJob's "Before you apply it" named the ConfigMap but not the client-secret
// Secret): the `kubectl create secret generic NAME --from-file=KEY=` line, for each.
func TestCampaignJobHeadersNameTheirSecrets(t *testing.T) {
	for _, w := range workloads(t, loadObjects(t)) {
		if w.Obj.Kind != "Job" && w.Obj.Kind != "CronJob" {
			continue
		}
		header := string(readFile(t, w.Obj.File))
		header = header[:strings.Index(header, "\napiVersion:")]
		for _, c := range w.Spec.Containers {
			for _, e := range c.Env {
				if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
					continue
				}
				ref := e.ValueFrom.SecretKeyRef
				assert.Contains(t, header, "kubectl -n cognito-resend create secret generic "+ref.Name+" --from-file="+ref.Key+"=",
					"%s: its header does not say how to make the Secret %s (key %s) that %s reads", w, ref.Name, ref.Key, e.Name)
			}
		}
	}
}
