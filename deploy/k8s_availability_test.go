package deploy_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// Issue 20, point 9: what keeps the queue workers up through a node loss, a drain and a
// slow first receive, and what their pods are not given.

// queueWorkers returns the queue-mode Deployments (--sqs-queue-url set).
func queueWorkers(t *testing.T, objs []*object) []workload {
	t.Helper()
	var out []workload
	for _, w := range workloads(t, objs) {
		if w.Obj.Kind != "Deployment" {
			continue
		}
		for _, c := range w.Spec.Containers {
			if _, _, ok := setting(t, objs, w, c, "sqs-queue-url"); ok {
				out = append(out, w)
				break
			}
		}
	}
	require.NotEmpty(t, out, "no queue-mode Deployment under %s", k8sDir)
	return out
}

// One node lost must not take every replica: a hard spread over nodes (maxSkew 1,
// DoNotSchedule) selecting the Deployment's own pods.
func TestQueueWorkersSpreadOverNodes(t *testing.T) {
	for _, w := range queueWorkers(t, loadObjects(t)) {
		var hard bool
		for _, c := range w.Spec.TopologySpreadConstraints {
			assert.Empty(t, c.LabelSelector.MatchExpressions, "%s: spread selector: matchLabels only (the test compares them)", w)
			assert.True(t, len(c.LabelSelector.MatchLabels) > 0 && labelsMatch(c.LabelSelector.MatchLabels, w.Labels),
				"%s: spread on %s selects %v, not this Deployment's pods %v", w, c.TopologyKey, c.LabelSelector.MatchLabels, w.Labels)
			if c.TopologyKey == "kubernetes.io/hostname" && c.WhenUnsatisfiable == "DoNotSchedule" && c.MaxSkew == 1 {
				hard = true
			}
		}
		assert.True(t, hard, "%s: no topologySpreadConstraints on kubernetes.io/hostname with maxSkew 1 and DoNotSchedule: one node can hold every replica", w)
	}
}

// A drain evicts one queue worker at a time, never blocks on a single replica (KEDA's
// usual count) or on workers that are not ready (an outage), and the budget selects the
// workers only.
func TestQueueWorkersHaveADisruptionBudget(t *testing.T) {
	objs := loadObjects(t)
	type pdb struct {
		Spec struct {
			MinAvailable               any           `yaml:"minAvailable"`
			MaxUnavailable             any           `yaml:"maxUnavailable"`
			UnhealthyPodEvictionPolicy string        `yaml:"unhealthyPodEvictionPolicy"`
			Selector                   labelSelector `yaml:"selector"`
		} `yaml:"spec"`
	}
	workers := queueWorkers(t, objs)
	covered := map[string]bool{}
	for _, o := range objs {
		if o.Kind != "PodDisruptionBudget" {
			continue
		}
		assert.Equal(t, "policy/v1", o.APIVersion, "%s: PodDisruptionBudget", o.File)
		var b pdb
		require.NoError(t, o.Node.Decode(&b), o.File)
		assert.Nil(t, b.Spec.MinAvailable, "%s: minAvailable blocks every drain while KEDA runs one replica; use maxUnavailable", o.File)
		if assert.NotNil(t, b.Spec.MaxUnavailable, "%s: maxUnavailable", o.File) {
			assert.Equal(t, "1", fmt.Sprint(b.Spec.MaxUnavailable), "%s: evict one worker at a time", o.File)
		}
		assert.Equal(t, "AlwaysAllow", b.Spec.UnhealthyPodEvictionPolicy, "%s: workers not ready during an outage must not block a drain", o.File)
		require.NotEmpty(t, b.Spec.Selector.MatchLabels, "%s: selector", o.File)
		for _, w := range workloads(t, objs) {
			if labelsMatch(b.Spec.Selector.MatchLabels, w.Labels) {
				assert.Equal(t, "Deployment", w.Obj.Kind, "%s selects %s: a campaign Job's pod must not be held by the workers' budget", o.File, w)
				covered[w.Obj.Metadata.Name] = true
			}
		}
	}
	for _, w := range workers {
		assert.True(t, covered[w.Obj.Metadata.Name], "%s: no PodDisruptionBudget selects its pods", w)
	}
}

// No pod gets a Kubernetes API token: the program never calls the API (it links no
// Kubernetes client), and IRSA mounts its own web identity token.
func TestNoServiceAccountTokenInThePods(t *testing.T) {
	require.NoError(t, helpErr, "building the binary")
	list := exec.Command("go", "list", "-deps", "./cmd/cognito-resend")
	list.Dir = repoRoot
	out, err := list.CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, p := range strings.Fields(string(out)) {
		require.False(t, strings.HasPrefix(p, "k8s.io/"), "the binary links %s: if it calls the Kubernetes API now, its pods need a token (and RBAC)", p)
	}
	objs := loadObjects(t)
	for _, w := range workloads(t, objs) {
		a := w.Spec.AutomountServiceAccountToken
		assert.True(t, a != nil && !*a, "%s: automountServiceAccountToken: false", w)
	}
	for _, o := range objs {
		if o.Kind == "ServiceAccount" {
			a := path(o.Node, "automountServiceAccountToken")
			assert.True(t, a != nil && a.Value == "false", "%s: ServiceAccount %s: automountServiceAccountToken: false", o.File, o.Metadata.Name)
		}
	}
}

// The liveness probe restarts a stuck worker within a couple of minutes, but not for a
// slow moment; the readiness probe marks a worker that takes no work (an outage) not
// ready within half a minute; a startup probe holds the liveness probe back while the
// process starts. (/readyz does not wait for the first long poll: sqssource's
// TestSQSReadyDuringTheFirstLongPoll.)
func TestQueueWorkerProbeTimings(t *testing.T) {
	objs := loadObjects(t)
	for _, w := range queueWorkers(t, objs) {
		for _, c := range w.Spec.Containers {
			live, ready, start := c.LivenessProbe, c.ReadinessProbe, c.StartupProbe
			require.NotNil(t, live, "%s container %s: liveness probe", w, c.Name)
			require.NotNil(t, ready, "%s container %s: readiness probe", w, c.Name)
			require.NotNil(t, start, "%s container %s: startup probe", w, c.Name)
			window := live.every() * time.Duration(live.failing())
			assert.GreaterOrEqual(t, window, time.Minute, "%s container %s: liveness restarts after %s of failures: too eager (a slow node, a GC pause)", w, c.Name, window)
			assert.LessOrEqual(t, window, 3*time.Minute, "%s container %s: liveness restarts only after %s: a stuck worker holds its messages that long", w, c.Name, window)
			assert.GreaterOrEqual(t, orDefault(live.TimeoutSeconds, 1), 2, "%s container %s: liveness timeoutSeconds", w, c.Name)

			readyWindow := time.Duration(ready.InitialDelaySeconds)*time.Second + ready.every()*time.Duration(ready.failing())
			assert.LessOrEqual(t, readyWindow, 30*time.Second, "%s container %s: a worker that takes no work shows as not ready only after %s", w, c.Name, readyWindow)
			startWindow := start.every() * time.Duration(start.failing())
			assert.GreaterOrEqual(t, startWindow, 20*time.Second, "%s container %s: startup probe window %s (the start checks the queue and the table)", w, c.Name, startWindow)
		}
	}
}

// The kit brings its namespace, the one kustomization.yaml puts everything in, with Pod
// Security Admission's restricted profile enforced (TestPodsRunAsNonRootReadOnly checks
// what that profile requires).
func TestNamespaceManifest(t *testing.T) {
	var k struct {
		Namespace string   `yaml:"namespace"`
		Resources []string `yaml:"resources"`
	}
	require.NoError(t, yaml.Unmarshal(readFile(t, filepath.Join(k8sDir, "kustomization.yaml")), &k))
	require.NotEmpty(t, k.Namespace)
	var ns *object
	for _, o := range loadObjects(t) {
		if o.Kind == "Namespace" {
			require.Nil(t, ns, "one Namespace")
			ns = o
		}
	}
	require.NotNil(t, ns, "no Namespace manifest under %s", k8sDir)
	assert.Equal(t, k.Namespace, ns.Metadata.Name, "%s: the kustomization's namespace", ns.File)
	assert.Contains(t, k.Resources, filepath.Base(ns.File), "kustomization.yaml must list %s", ns.File)
	assert.Equal(t, "restricted", ns.Metadata.Labels["pod-security.kubernetes.io/enforce"], "%s: Pod Security Admission", ns.File)
}
