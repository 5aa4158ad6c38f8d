package dev.streamlane.conformance;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.StateRestoreListener;

/**
 * The Kafka Streams side of Streamlane's peer benchmark (bench/peer.ts; bench/peer/streamlane-peer.ts is the
 * Streamlane side and speaks the same protocol). One JVM runs several apps of the same topology one after the
 * other, so the first app runs on a cold JIT and the next ones on a warm one. The benchmark decides when an app is
 * done (its group has committed every input offset, or the line "restored" below) and drives this process through
 * stdin, one command a line:
 *
 * <pre>
 *   run APPLICATION_ID STATE_DIR OUTPUT_TOPIC EXPECTED_RESTORED   starts an app ("restored N" once N changelog
 *                                                                 records are restored, when N > 0)
 *   close                                                         closes it, then prints "closed"
 * </pre>
 *
 * End of input exits. Arguments: bootstrap topology(map|count|window|reduce) inputTopic guarantee
 * (at_least_once|exactly_once_v2) commitIntervalMs windowMs graceMs
 */
public final class PeerBench {
  private static final Serde<byte[]> B = Serdes.ByteArray();

  private PeerBench() {}

  /** ASCII lowercase to uppercase, into a new array: the stateless workload's mapValues. */
  static byte[] upper(final byte[] value) {
    final byte[] out = new byte[value.length];
    for (int i = 0; i < value.length; i++) {
      final byte b = value[i];
      out[i] = b >= 'a' && b <= 'z' ? (byte) (b - 32) : b;
    }
    return out;
  }

  static Topology topology(final String kind, final String input, final String output, final long windowMs,
      final long graceMs) {
    final StreamsBuilder builder = new StreamsBuilder();
    final var stream = builder.stream(input, Consumed.with(B, B));
    if (kind.equals("map")) {
      stream.mapValues(PeerBench::upper).to(output, Produced.with(B, B));
      return builder.build();
    }
    final KGroupedStream<byte[], byte[]> grouped = stream.groupByKey();
    switch (kind) {
      case "count" -> grouped.count(Materialized.as("counts")).toStream().to(output, Produced.with(B, Serdes.Long()));
      case "window" -> grouped
          .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(windowMs), Duration.ofMillis(graceMs)))
          .count(Materialized.as("windowed"))
          .toStream()
          .map((windowed, count) -> KeyValue.pair(
              (new String(windowed.key(), StandardCharsets.ISO_8859_1) + "@" + windowed.window().start())
                  .getBytes(StandardCharsets.ISO_8859_1),
              count))
          .to(output, Produced.with(B, Serdes.Long()));
      case "reduce" -> grouped.reduce((latest, value) -> value, Materialized.as("latest"))
          .toStream()
          .to(output, Produced.with(B, B));
      default -> throw new IllegalArgumentException("unknown topology " + kind);
    }
    return builder.build();
  }

  private static void say(final String line) {
    synchronized (System.out) {
      System.out.println(line);
      System.out.flush();
    }
  }

  public static void main(final String[] args) throws Exception {
    final String bootstrap = args[0];
    final String kind = args[1];
    final String input = args[2];
    final String guarantee = args[3];
    final long commitIntervalMs = Long.parseLong(args[4]);
    final long windowMs = Long.parseLong(args[5]);
    final long graceMs = Long.parseLong(args[6]);
    final BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    KafkaStreams streams = null;
    for (String line = commands.readLine(); line != null; line = commands.readLine()) {
      final String[] words = line.trim().split(" ");
      if (words[0].equals("run")) {
        final Properties props = new Properties();
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, words[1]);
        props.put(StreamsConfig.STATE_DIR_CONFIG, words[2]);
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitIntervalMs);
        final long expectedRestored = Long.parseLong(words[4]);
        streams = new KafkaStreams(topology(kind, input, words[3], windowMs, graceMs), props);
        streams.setUncaughtExceptionHandler(error -> {
          say("error " + error.toString().replace('\n', ' '));
          return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        final AtomicLong restored = new AtomicLong();
        streams.setGlobalStateRestoreListener(new StateRestoreListener() {
          @Override
          public void onRestoreStart(final TopicPartition partition, final String store, final long start,
              final long end) {}

          @Override
          public void onBatchRestored(final TopicPartition partition, final String store, final long batchEnd,
              final long records) {
            final long before = restored.getAndAdd(records);
            if (expectedRestored > 0 && before < expectedRestored && before + records >= expectedRestored) {
              say("restored " + (before + records));
            }
          }

          @Override
          public void onRestoreEnd(final TopicPartition partition, final String store, final long total) {}
        });
        streams.start();
      } else if (words[0].equals("close")) {
        if (streams != null) streams.close(Duration.ofSeconds(30));
        streams = null;
        say("closed");
      }
    }
    if (streams != null) streams.close(Duration.ofSeconds(30));
  }
}
