// Command kubestrict reads Kubernetes objects (YAML documents separated by `---`) on stdin and decodes each built-in
// kind into its typed struct from k8s.io/api, refusing unknown and duplicate fields: what the API server's strict
// field validation does, offline. A misspelt or misplaced key in a template (a probe field one level too deep, say)
// passes a JSON schema without additionalProperties but fails here. Kinds it has no type for are listed as skipped.
//
// Output: one line per document, "ok <apiVersion> <kind> <name>", "skipped ..." or "error ...: <reason>"; the exit
// status is 1 when any document failed.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

func typed(apiVersion, kind string) any {
	switch apiVersion + " " + kind {
	case "apps/v1 StatefulSet":
		return &appsv1.StatefulSet{}
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}
	case "v1 Service":
		return &corev1.Service{}
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}
	case "v1 Secret":
		return &corev1.Secret{}
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}
	case "networking.k8s.io/v1 NetworkPolicy":
		return &networkingv1.NetworkPolicy{}
	}
	return nil
}

func main() {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(os.Stdin))
	failed := false
	for {
		document, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Printf("error reading input: %v\n", err)
			os.Exit(1)
		}
		if strings.TrimSpace(string(document)) == "" {
			continue
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(document, &meta); err != nil {
			fmt.Printf("error <unparsed>: %v\n", err)
			failed = true
			continue
		}
		if meta.Kind == "" {
			continue // a document of comments only
		}
		what := fmt.Sprintf("%s %s %s", meta.APIVersion, meta.Kind, meta.Metadata.Name)
		object := typed(meta.APIVersion, meta.Kind)
		if object == nil {
			fmt.Printf("skipped %s\n", what)
			continue
		}
		if err := yaml.UnmarshalStrict(document, object); err != nil {
			fmt.Printf("error %s: %v\n", what, err)
			failed = true
			continue
		}
		fmt.Printf("ok %s\n", what)
	}
	if failed {
		os.Exit(1)
	}
}
