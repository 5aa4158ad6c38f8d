package dev.streamlane.conformance;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;

/**
 * Runs the differential suite's cases with Kafka Streams' TopologyTestDriver (one JVM for the whole catalogue).
 *
 * Protocol (stdin, one token list per line, fields separated by a tab; strings as hex of their UTF-8 bytes, "-" for
 * null):
 *   case  ID  TOPOLOGY  CACHE_MAX_BYTES  PARAMS(name=value,...)
 *   pipe  TOPIC  KEY  VALUE  TIMESTAMP
 *   advance  MS
 *   end
 * Output (stdout), per case:
 *   out  ID  EVENT_INDEX  TOPIC  KEY  VALUE  TIMESTAMP     every record written to a non-internal topic, read after
 *                                                         the event with that (0-based) index
 *   done  ID        or        error  ID  MESSAGE
 */
public final class Runner {
  private static final String APP_ID = "conformance";
  private static final HexFormat HEX = HexFormat.of();

  public static void main(final String[] args) throws Exception {
    final PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String[] header = null;
    final List<String[]> events = new ArrayList<>();
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      if (line.isEmpty()) continue;
      final String[] fields = line.split("\t", -1);
      switch (fields[0]) {
        case "case" -> {
          header = fields;
          events.clear();
        }
        case "end" -> {
          runCase(header, events, out);
          out.flush();
        }
        default -> events.add(fields);
      }
    }
    out.flush();
  }

  private static void runCase(final String[] header, final List<String[]> events, final PrintStream out) {
    final String id = header[1];
    final Path stateDir;
    try {
      stateDir = Files.createTempDirectory("streamlane-conformance-");
    } catch (final Exception e) {
      out.println("error\t" + id + "\t" + e);
      return;
    }
    final Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, APP_ID);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, Long.parseLong(header[3]));
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    try (TopologyTestDriver driver =
        new TopologyTestDriver(Topologies.build(header[2], params(header[4])), props, Instant.EPOCH)) {
      final Map<String, TestInputTopic<String, String>> inputs = new HashMap<>();
      final Map<String, TestOutputTopic<byte[], byte[]>> outputs = new HashMap<>();
      for (int i = 0; i < events.size(); i++) {
        final String[] e = events.get(i);
        if (e[0].equals("pipe")) {
          final TestInputTopic<String, String> topic = inputs.computeIfAbsent(e[1],
              t -> driver.createInputTopic(t, new StringSerializer(), new StringSerializer()));
          topic.pipeInput(new TestRecord<>(text(e[2]), text(e[3]), Instant.ofEpochMilli(Long.parseLong(e[4]))));
        } else if (e[0].equals("advance")) {
          driver.advanceWallClockTime(Duration.ofMillis(Long.parseLong(e[1])));
        } else {
          throw new IllegalArgumentException("unknown event " + e[0]);
        }
        for (final String topic : driver.producedTopicNames().stream().sorted().toList()) {
          if (topic.startsWith(APP_ID + "-")) continue;
          final TestOutputTopic<byte[], byte[]> output = outputs.computeIfAbsent(topic,
              t -> driver.createOutputTopic(t, new ByteArrayDeserializer(), new ByteArrayDeserializer()));
          for (final TestRecord<byte[], byte[]> r : output.readRecordsToList()) {
            out.println(String.join("\t", "out", id, Integer.toString(i), topic, hex(r.key()), hex(r.value()),
                Long.toString(r.timestamp())));
          }
        }
      }
      out.println("done\t" + id);
    } catch (final Exception e) {
      out.println("error\t" + id + "\t" + String.valueOf(e).replace('\t', ' ').replace('\n', ' '));
    } finally {
      deleteQuietly(stateDir);
    }
  }

  private static Map<String, Long> params(final String spec) {
    final Map<String, Long> params = new HashMap<>();
    if (spec.isEmpty() || spec.equals("-")) return params;
    for (final String pair : spec.split(",")) {
      final String[] kv = pair.split("=", 2);
      params.put(kv[0], Long.parseLong(kv[1]));
    }
    return params;
  }

  private static String text(final String hex) {
    return hex.equals("-") ? null : new String(HEX.parseHex(hex), StandardCharsets.UTF_8);
  }

  private static String hex(final byte[] bytes) {
    return bytes == null ? "-" : HEX.formatHex(bytes);
  }

  private static void deleteQuietly(final Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(p -> p.toFile().delete());
    } catch (final Exception ignored) {
      // a temporary directory left behind is harmless
    }
  }
}
