// Package conformance drives a running Streamlane scaler with KEDA's own generated gRPC client
// (github.com/kedacore/keda/v2/pkg/scalers/externalscaler), the exact code KEDA's operator uses for `external`
// triggers. The TypeScript integration test (test/integration/autoscale/keda-conformance.test.ts) prepares a topic
// and groups with known lag, starts the scaler and runs this with:
//
//	STREAMLANE_SCALER_ADDR   host:port of the scaler's gRPC server
//	STREAMLANE_CONFORMANCE_CASES  JSON list of cases (see conformanceCase)
//	STREAMLANE_SCALER_CA_CERT, STREAMLANE_SCALER_TLS_CLIENT_CERT, STREAMLANE_SCALER_TLS_CLIENT_KEY
//	                         optional PEM files: dial with TLS as KEDA does for a trigger with enableTLS and a
//	                         TriggerAuthentication giving caCert / tlsClientCert / tlsClientKey (see dialOptions)
//
// Without STREAMLANE_SCALER_ADDR the test is skipped: it needs a scaler and a broker.
package conformance

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"math"
	"os"
	"testing"
	"time"

	pb "github.com/kedacore/keda/v2/pkg/scalers/externalscaler"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// expectation of one ScaledObject. Codes are gRPC code names ("OK", "NotFound", "InvalidArgument", ...).
type expectation struct {
	SpecCode        string  `json:"specCode"`
	MetricsCode     string  `json:"metricsCode"`
	ActiveCode      string  `json:"activeCode"`
	MetricName      string  `json:"metricName"`
	TargetSize      float64 `json:"targetSize"`
	MetricValue     float64 `json:"metricValue"`
	Active          bool    `json:"active"`
	Replicas        int64   `json:"replicas"`
	CurrentReplicas int64   `json:"currentReplicas"`
	// HPA tolerance for the replica check (Kubernetes default 0.1).
	HpaTolerance *float64 `json:"hpaTolerance"`
	// Substring the error details must contain when a code other than OK is expected.
	ErrorContains string `json:"errorContains"`
}

type conformanceCase struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Metadata  map[string]string `json:"metadata"`
	Expect    expectation       `json:"expect"`
}

func codeOr(name string) string {
	if name == "" {
		return codes.OK.String()
	}
	return name
}

// checkCode fails unless err carries the expected status; it returns true when the call succeeded.
func checkCode(t *testing.T, rpc string, err error, want string, contains string) bool {
	t.Helper()
	got := status.Code(err)
	if got.String() != codeOr(want) {
		t.Fatalf("%s: status %s (%v), want %s", rpc, got, err, codeOr(want))
	}
	if err != nil {
		details := status.Convert(err).Message()
		if contains != "" && !containsString(details, contains) {
			t.Fatalf("%s: error %q does not mention %q", rpc, details, contains)
		}
		t.Logf("%s -> %s: %s", rpc, got, details)
		return false
	}
	return true
}

func containsString(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// milli mirrors KEDA's quantityFromFloat64 (milli precision) for metric values and targets.
func milli(v float64) int64 { return int64(math.Round(v * 1000)) }

// hpaDesired is the HPA's External AverageValue rule (replica_calculator.go, GetExternalPerPodMetricReplicas).
func hpaDesired(metricMilli, targetMilli, current int64, tolerance float64) int64 {
	ratio := float64(metricMilli) / (float64(targetMilli) * float64(current))
	if math.Abs(1.0-ratio) <= tolerance {
		return current
	}
	return int64(math.Ceil(float64(metricMilli) / float64(targetMilli)))
}

// dialOptions builds the transport KEDA's operator uses for an `external` trigger (pkg/scalers/external_scaler.go):
// plaintext, or, when a CA or client certificate is given, credentials.NewTLS over the tls.Config of KEDA's
// util.NewTLSConfig: TLS 1.2 at least, the system roots plus the CA, and the client key pair (PEM contents, as a
// TriggerAuthentication hands them over). KEDA's util package is not imported: it pulls in controller-runtime.
func dialOptions(t *testing.T) grpc.DialOption {
	caFile := os.Getenv("STREAMLANE_SCALER_CA_CERT")
	certFile := os.Getenv("STREAMLANE_SCALER_TLS_CLIENT_CERT")
	keyFile := os.Getenv("STREAMLANE_SCALER_TLS_CLIENT_KEY")
	if caFile == "" && certFile == "" {
		return grpc.WithTransportCredentials(insecure.NewCredentials())
	}
	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		return b
	}
	config := &tls.Config{MinVersion: tls.VersionTLS12}
	if certFile != "" && keyFile != "" {
		pair, err := tls.X509KeyPair(read(certFile), read(keyFile))
		if err != nil {
			t.Fatalf("client key pair: %v", err)
		}
		config.Certificates = []tls.Certificate{pair}
	}
	if caFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(read(caFile)) {
			t.Fatalf("no certificate in %s", caFile)
		}
		config.RootCAs = pool
	}
	return grpc.WithTransportCredentials(credentials.NewTLS(config))
}

func TestExternalScalerConformance(t *testing.T) {
	addr := os.Getenv("STREAMLANE_SCALER_ADDR")
	if addr == "" {
		t.Skip("STREAMLANE_SCALER_ADDR not set: run through test/integration/autoscale/keda-conformance.test.ts")
	}
	var cases []conformanceCase
	if err := json.Unmarshal([]byte(os.Getenv("STREAMLANE_CONFORMANCE_CASES")), &cases); err != nil || len(cases) == 0 {
		t.Fatalf("STREAMLANE_CONFORMANCE_CASES must be a non-empty JSON list of cases: %v", err)
	}
	conn, err := grpc.NewClient(addr, dialOptions(t))
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	client := pb.NewExternalScalerClient(conn)

	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			ref := &pb.ScaledObjectRef{Name: c.Name, Namespace: c.Namespace, ScalerMetadata: c.Metadata}
			e := c.Expect

			// KEDA's order: GetMetricSpec when it builds the HPA, then on each poll GetMetrics followed by IsActive.
			spec, err := client.GetMetricSpec(ctx, ref)
			metricName := e.MetricName
			if checkCode(t, "GetMetricSpec", err, e.SpecCode, e.ErrorContains) {
				if len(spec.MetricSpecs) != 1 {
					t.Fatalf("GetMetricSpec: %d metric specs, want 1", len(spec.MetricSpecs))
				}
				s := spec.MetricSpecs[0]
				t.Logf("GetMetricSpec -> metricName=%s targetSize=%d targetSizeFloat=%g", s.MetricName, s.TargetSize, s.TargetSizeFloat)
				if s.MetricName != e.MetricName {
					t.Errorf("metricName %q, want %q", s.MetricName, e.MetricName)
				}
				if s.TargetSizeFloat != e.TargetSize || s.TargetSize != int64(math.Round(e.TargetSize)) {
					t.Errorf("target %d / %g, want %g in both fields", s.TargetSize, s.TargetSizeFloat, e.TargetSize)
				}
				metricName = s.MetricName
			}

			metrics, err := client.GetMetrics(ctx, &pb.GetMetricsRequest{ScaledObjectRef: ref, MetricName: metricName})
			if checkCode(t, "GetMetrics", err, e.MetricsCode, e.ErrorContains) {
				if len(metrics.MetricValues) != 1 {
					t.Fatalf("GetMetrics: %d values, want 1", len(metrics.MetricValues))
				}
				v := metrics.MetricValues[0]
				t.Logf("GetMetrics -> metricName=%s metricValue=%d metricValueFloat=%g", v.MetricName, v.MetricValue, v.MetricValueFloat)
				if v.MetricName != metricName {
					t.Errorf("metric answered as %q, asked for %q", v.MetricName, metricName)
				}
				if v.MetricValueFloat != e.MetricValue {
					t.Errorf("metricValueFloat %g, want %g", v.MetricValueFloat, e.MetricValue)
				}
				// KEDA < 2.17 reads only the int64; it must say the same (rounded up, never down to a smaller count).
				if v.MetricValue != int64(math.Ceil(e.MetricValue)) {
					t.Errorf("metricValue (int64) %d, want %d", v.MetricValue, int64(math.Ceil(e.MetricValue)))
				}
				if e.CurrentReplicas > 0 {
					tolerance := 0.1
					if e.HpaTolerance != nil {
						tolerance = *e.HpaTolerance
					}
					value := v.MetricValueFloat
					if value <= 0 {
						value = float64(v.MetricValue)
					}
					desired := hpaDesired(milli(value), milli(e.TargetSize), e.CurrentReplicas, tolerance)
					t.Logf("HPA AverageValue arithmetic: %d replicas now, metric %g / target %g -> %d (policy wants %d)",
						e.CurrentReplicas, value, e.TargetSize, desired, e.Replicas)
					if desired != e.Replicas {
						t.Errorf("the HPA would set %d replicas, the policy decided %d", desired, e.Replicas)
					}
				}
			}

			active, err := client.IsActive(ctx, ref)
			if checkCode(t, "IsActive", err, e.ActiveCode, e.ErrorContains) {
				t.Logf("IsActive -> %v", active.Result)
				if active.Result != e.Active {
					t.Errorf("IsActive %v, want %v", active.Result, e.Active)
				}
			}

			// StreamIsActive (external-push): the first message comes at once; an error ends the stream with a status.
			stream, err := client.StreamIsActive(ctx, ref)
			if err != nil {
				t.Fatalf("StreamIsActive: %v", err)
			}
			first, err := stream.Recv()
			if checkCode(t, "StreamIsActive", err, e.ActiveCode, e.ErrorContains) {
				t.Logf("StreamIsActive first message -> %v", first.Result)
				if first.Result != e.Active {
					t.Errorf("StreamIsActive %v, want %v", first.Result, e.Active)
				}
			}

			// Optional in KEDA >= 2.21: answering Unimplemented makes KEDA fall back to GetMetricSpec.
			specStream, err := client.StreamMetricSpec(ctx, ref)
			if err == nil {
				_, err = specStream.Recv()
			}
			if err != nil && err != io.EOF && status.Code(err) != codes.Unimplemented {
				t.Errorf("StreamMetricSpec: %v, want Unimplemented", err)
			} else {
				t.Logf("StreamMetricSpec -> %s", status.Code(err))
			}
		})
	}
}
