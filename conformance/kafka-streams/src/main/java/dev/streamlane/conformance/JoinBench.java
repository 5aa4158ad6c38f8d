package dev.streamlane.conformance;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.StreamJoined;

/**
 * The Kafka Streams peer of Streamlane's join benchmark (bench/joins.ts): the same join topology, on the same broker
 * and input, run until the benchmark kills it. Prints "running" once KafkaStreams is RUNNING; the benchmark watches
 * the group's committed offsets to know when every input record is done.
 *
 * Arguments: bootstrap applicationId stateDir kind(stream-table|stream-stream) leftTopic rightTopic outputTopic
 * commitIntervalMs windowMs graceMs
 */
public final class JoinBench {
  private static final Serde<byte[]> B = Serdes.ByteArray();

  private JoinBench() {}

  static byte[] concat(final byte[] left, final byte[] right) {
    return ByteBuffer.allocate(left.length + right.length).put(left).put(right).array();
  }

  public static void main(final String[] args) throws Exception {
    final Properties props = new Properties();
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, args[1]);
    props.put(StreamsConfig.STATE_DIR_CONFIG, args[2]);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.parseLong(args[7]));
    final StreamsBuilder builder = new StreamsBuilder();
    final KStream<byte[], byte[]> left = builder.stream(args[4], Consumed.with(B, B));
    if (args[3].equals("stream-table")) {
      final KTable<byte[], byte[]> table = builder.table(args[5], Consumed.with(B, B), Materialized.as("table"));
      left.join(table, JoinBench::concat).to(args[6], Produced.with(B, B));
    } else {
      final KStream<byte[], byte[]> right = builder.stream(args[5], Consumed.with(B, B));
      left.join(right, JoinBench::concat,
          JoinWindows.ofTimeDifferenceAndGrace(Duration.ofMillis(Long.parseLong(args[8])),
              Duration.ofMillis(Long.parseLong(args[9]))),
          StreamJoined.<byte[], byte[], byte[]>with(B, B, B).withStoreName("join"))
          .to(args[6], Produced.with(B, B));
    }
    final KafkaStreams streams = new KafkaStreams(builder.build(), props);
    final CountDownLatch running = new CountDownLatch(1);
    streams.setStateListener((now, before) -> {
      if (now == KafkaStreams.State.RUNNING) running.countDown();
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> streams.close(Duration.ofSeconds(10))));
    streams.start();
    running.await();
    System.out.println("running");
    System.out.flush();
    Thread.currentThread().join();
  }
}
