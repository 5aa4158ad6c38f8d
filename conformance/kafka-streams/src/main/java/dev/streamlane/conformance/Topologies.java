package dev.streamlane.conformance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.EmitStrategy;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.SessionWindowedKStream;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindowedKStream;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The catalogue's topologies, by name, as test/conformance/catalogue.ts builds them with Streamlane. Inputs are
 * topics "in" (and "in2") of string keys and values; results go to "out" (split: "out-one", "out-two", "out-other").
 * The functions are the catalogue's: "even" = a non-null value of even length, the group of a value is its first
 * character, aggregates concatenate.
 */
final class Topologies {
  private static final Serde<String> S = Serdes.String();
  private static final Serde<Long> L = Serdes.Long();

  private Topologies() {}

  /**
   * The "process" topology's processor: forwards each record with its value marked, counts records, and on punctuation
   * forwards the count so far: every 1000 ms of wall-clock time (key "wall") and 2000 ms of stream time (key "stream"),
   * stamped with the punctuation time.
   */
  static final class Ticker extends ContextualProcessor<String, String, String, String> {
    private long seen = 0;

    @Override
    public void init(final ProcessorContext<String, String> context) {
      super.init(context);
      context.schedule(Duration.ofMillis(1000), PunctuationType.WALL_CLOCK_TIME,
          now -> context.forward(new Record<>("wall", Long.toString(seen), now)));
      context.schedule(Duration.ofMillis(2000), PunctuationType.STREAM_TIME,
          now -> context.forward(new Record<>("stream", Long.toString(seen), now)));
    }

    @Override
    public void process(final Record<String, String> record) {
      seen++;
      context().forward(record.withValue(record.value() + "#" + seen));
    }
  }

  static boolean even(final String v) {
    return v != null && v.length() % 2 == 0;
  }

  static String first(final String v) {
    return v == null || v.isEmpty() ? null : v.substring(0, 1);
  }

  static Topology build(final String name, final Map<String, Long> p) {
    final StreamsBuilder b = new StreamsBuilder();
    if (name.startsWith("join-") || name.startsWith("stream-toTable") || name.equals("stream-processValues")
        || name.startsWith("transformValues") || name.startsWith("cogroup") || name.equals("global-store")) {
      JoinTopologies.build(b, name, p);
    } else if (name.startsWith("table-")) {
      table(b, name, p);
    } else if (name.startsWith("tumbling-") || name.startsWith("hopping-") || name.startsWith("sliding-")
        || name.startsWith("session-")) {
      windowed(b, name, p);
    } else {
      stream(b, name, p);
    }
    return b.build();
  }

  private static KStream<String, String> input(final StreamsBuilder b) {
    return b.stream("in", Consumed.with(S, S));
  }

  private static void stream(final StreamsBuilder b, final String name, final Map<String, Long> p) {
    final KStream<String, String> in = input(b);
    final Produced<String, String> strings = Produced.with(S, S);
    switch (name) {
      case "filter" -> in.filter((k, v) -> even(v)).to("out", strings);
      case "filterNot" -> in.filterNot((k, v) -> even(v)).to("out", strings);
      case "map" -> in.map((k, v) -> KeyValue.pair(v, k)).to("out", strings);
      case "mapValues" -> in.mapValues(v -> v == null ? null : v.toUpperCase()).to("out", strings);
      case "flatMap" -> in.flatMap((k, v) -> v == null ? List.<KeyValue<String, String>>of()
          : List.of(KeyValue.pair(k, v), KeyValue.pair(v, k))).to("out", strings);
      case "flatMapValues" -> in.flatMapValues(v -> {
        final List<String> chars = new ArrayList<>();
        if (v != null) for (final char c : v.toCharArray()) chars.add(String.valueOf(c));
        return chars;
      }).to("out", strings);
      case "selectKey" -> in.selectKey((k, v) -> first(v)).to("out", strings);
      case "peek" -> in.peek((k, v) -> {}).to("out", strings);
      case "split" -> {
        final var branches = in.split(Named.as("s-"))
            .branch((k, v) -> v != null && v.length() == 1, org.apache.kafka.streams.kstream.Branched.as("one"))
            .branch((k, v) -> v != null && v.length() == 2, org.apache.kafka.streams.kstream.Branched.as("two"))
            .defaultBranch(org.apache.kafka.streams.kstream.Branched.as("other"));
        branches.get("s-one").to("out-one", strings);
        branches.get("s-two").to("out-two", strings);
        branches.get("s-other").to("out-other", strings);
      }
      case "merge" -> in.merge(b.stream("in2", Consumed.with(S, S))).to("out", strings);
      case "repartition" -> in.selectKey((k, v) -> first(v))
          .repartition(Repartitioned.<String, String>as("rp").withKeySerde(S).withValueSerde(S))
          .mapValues(v -> v + "!").to("out", strings);
      case "count" -> in.groupByKey().count().toStream().to("out", Produced.with(S, L));
      case "reduce" -> in.groupByKey().reduce((a, v) -> a + "+" + v).toStream().to("out", strings);
      case "aggregate" -> in.groupByKey()
          .aggregate(() -> "", (k, v, a) -> a + "|" + v, Materialized.with(S, S)).toStream().to("out", strings);
      case "groupBy-count" -> in.groupBy((k, v) -> first(v), Grouped.with(S, S)).count().toStream()
          .to("out", Produced.with(S, L));
      case "selectKey-groupByKey-count" -> in.selectKey((k, v) -> first(v)).groupByKey(Grouped.with(S, S)).count()
          .toStream().to("out", Produced.with(S, L));
      case "process" -> in.process(Ticker::new).to("out", strings);
      default -> throw new IllegalArgumentException("unknown topology " + name);
    }
  }

  private static void windowed(final StreamsBuilder b, final String name, final Map<String, Long> p) {
    final KGroupedStream<String, String> grouped = input(b).groupByKey();
    final String[] parts = name.split("-", 2);
    final String kind = parts[0];
    final String op = parts[1];
    final long grace = p.getOrDefault("grace", 0L);
    final KTable<Windowed<String>, ?> table;
    final Serde<Windowed<String>> keySerde;
    if (kind.equals("session")) {
      final SessionWindowedKStream<String, String> w = grouped.windowedBy(
          SessionWindows.ofInactivityGapAndGrace(Duration.ofMillis(p.get("gap")), Duration.ofMillis(grace)));
      if (p.getOrDefault("emit", 0L) == 1L) w.emitStrategy(EmitStrategy.onWindowClose());
      keySerde = new WindowedSerdes.SessionWindowedSerde<>(S);
      table = switch (op) {
        case "count" -> w.count();
        case "reduce" -> w.reduce((a, v) -> a + "+" + v);
        case "aggregate" -> w.aggregate(() -> "", (k, v, a) -> a + "|" + v, (k, a1, a2) -> a1 + "&" + a2,
            Materialized.with(S, S));
        default -> throw new IllegalArgumentException("unknown topology " + name);
      };
    } else {
      final TimeWindowedKStream<String, String> w;
      final long size;
      if (kind.equals("sliding")) {
        size = p.get("diff");
        w = grouped.windowedBy(
            SlidingWindows.ofTimeDifferenceAndGrace(Duration.ofMillis(size), Duration.ofMillis(grace)));
      } else {
        size = p.get("size");
        TimeWindows windows = TimeWindows.ofSizeAndGrace(Duration.ofMillis(size), Duration.ofMillis(grace));
        if (kind.equals("hopping")) windows = windows.advanceBy(Duration.ofMillis(p.get("advance")));
        w = grouped.windowedBy(windows);
      }
      if (p.getOrDefault("emit", 0L) == 1L) w.emitStrategy(EmitStrategy.onWindowClose());
      keySerde = new WindowedSerdes.TimeWindowedSerde<>(S, size);
      table = switch (op) {
        case "count" -> w.count();
        case "reduce" -> w.reduce((a, v) -> a + "+" + v);
        case "aggregate" -> w.aggregate(() -> "", (k, v, a) -> a + "|" + v, Materialized.with(S, S));
        default -> throw new IllegalArgumentException("unknown topology " + name);
      };
    }
    windowedOutput(table, keySerde, op.equals("count"), p.getOrDefault("suppress", 0L));
  }

  @SuppressWarnings("unchecked")
  private static <V> void windowedOutput(final KTable<Windowed<String>, V> table,
      final Serde<Windowed<String>> keySerde, final boolean counts, final long suppress) {
    final KTable<Windowed<String>, V> result = suppress == 1L
        ? table.suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        : suppress == 2L
            ? table.suppress(Suppressed.untilTimeLimit(Duration.ofMillis(1000), Suppressed.BufferConfig.unbounded()))
            : table;
    result.toStream().to("out", Produced.with(keySerde, (Serde<V>) (counts ? L : S)));
  }

  private static void table(final StreamsBuilder b, final String name, final Map<String, Long> p) {
    if (name.startsWith("table-unnamed-")) {
      // A table whose store is not named: Kafka Streams materializes it only when an operation downstream needs it.
      final KTable<String, String> u = b.table("in", Consumed.with(S, S));
      switch (name) {
        case "table-unnamed-toStream" -> u.toStream().to("out", Produced.with(S, S));
        case "table-unnamed-filter" -> u.filter((k, v) -> even(v)).toStream().to("out", Produced.with(S, S));
        case "table-unnamed-groupBy-count" -> u.groupBy((k, v) -> KeyValue.pair(first(v), v), Grouped.with(S, S))
            .count().toStream().to("out", Produced.with(S, L));
        case "table-unnamed-suppress-time" -> u.suppress(Suppressed.untilTimeLimit(Duration.ofMillis(2000),
            Suppressed.BufferConfig.unbounded())).toStream().to("out", Produced.with(S, S));
        default -> throw new IllegalArgumentException("unknown topology " + name);
      }
      return;
    }
    final KTable<String, String> t = b.table("in", Consumed.with(S, S), Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("t").withKeySerde(S).withValueSerde(S));
    final Produced<String, String> strings = Produced.with(S, S);
    switch (name) {
      case "table-toStream" -> t.toStream().to("out", strings);
      case "table-filter" -> t.filter((k, v) -> even(v)).toStream().to("out", strings);
      case "table-filterNot" -> t.filterNot((k, v) -> even(v)).toStream().to("out", strings);
      case "table-filter-materialized" -> t.filter((k, v) -> even(v), Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("f").withKeySerde(S).withValueSerde(S)).toStream()
          .to("out", strings);
      case "table-mapValues" -> t.mapValues(v -> v.toUpperCase()).toStream().to("out", strings);
      case "table-mapValues-materialized" -> t.mapValues(v -> v.toUpperCase(),
          Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("m").withKeySerde(S).withValueSerde(S))
          .toStream().to("out", strings);
      case "table-groupBy-count" -> t.groupBy((k, v) -> KeyValue.pair(first(v), v), Grouped.with(S, S)).count()
          .toStream().to("out", Produced.with(S, L));
      case "table-suppress-time" -> t.suppress(Suppressed.untilTimeLimit(Duration.ofMillis(2000),
          Suppressed.BufferConfig.unbounded())).toStream().to("out", strings);
      case "table-suppress-time-bounded" -> t.suppress(Suppressed.untilTimeLimit(Duration.ofMillis(3000),
          Suppressed.BufferConfig.maxRecords(2))).toStream().to("out", strings);
      case "table-filter-groupBy-count" -> t.filter((k, v) -> even(v))
          .groupBy((k, v) -> KeyValue.pair(first(v), v), Grouped.with(S, S)).count().toStream()
          .to("out", Produced.with(S, L));
      case "table-groupBy-reduce" -> t.groupBy((k, v) -> KeyValue.pair(first(v), v), Grouped.with(S, S))
          .reduce((a, v) -> a + "+" + v, (a, v) -> a + "-" + v).toStream().to("out", strings);
      case "table-groupBy-aggregate" -> t.groupBy((k, v) -> KeyValue.pair(first(v), v), Grouped.with(S, S))
          .aggregate(() -> "", (k, v, a) -> a + "+" + v, (k, v, a) -> a + "-" + v, Materialized.with(S, S))
          .toStream().to("out", strings);
      default -> throw new IllegalArgumentException("unknown topology " + name);
    }
  }
}
