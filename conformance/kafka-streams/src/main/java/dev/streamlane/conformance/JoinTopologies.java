package dev.streamlane.conformance;

import java.time.Duration;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.CogroupedKStream;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.Joined;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.ValueJoiner;
import org.apache.kafka.streams.kstream.ValueTransformerWithKey;
import org.apache.kafka.streams.kstream.ValueTransformerWithKeySupplier;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.processor.ProcessorContext;
import org.apache.kafka.streams.processor.api.ContextualFixedKeyProcessor;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The catalogue's join topologies ("join-...") and stream-table conversions ("stream-toTable...",
 * "stream-processValues"), as test/conformance/join-topologies.ts builds them with Streamlane:
 * the stream "in" joined with "in2" read as a table or as a stream; the joiner concatenates "value+other" (a missing
 * side shows as "null").
 */
final class JoinTopologies {
  private static final Serde<String> S = Serdes.String();

  private JoinTopologies() {}

  static void build(final StreamsBuilder b, final String name, final Map<String, Long> p) {
    if (name.startsWith("join-fk")) {
      foreignKey(b, name);
      return;
    }
    final KStream<String, String> in = name.startsWith("join-table-table") || name.startsWith("transformValues")
        || name.startsWith("cogroup") ? null : b.stream("in", Consumed.with(S, S));
    if (name.startsWith("cogroup")) {
      final KGroupedStream<String, String> g1 = b.stream("in", Consumed.with(S, S)).groupByKey();
      final KStream<String, String> in2 = b.stream("in2", Consumed.with(S, S));
      final KGroupedStream<String, String> g2 = name.equals("cogroup-rekeyed")
          ? in2.groupBy((k, v) -> Topologies.first(v), Grouped.with(S, S)) : in2.groupByKey();
      final CogroupedKStream<String, String> cogrouped =
          g1.<String>cogroup((k, v, a) -> a + "|" + v).cogroup(g2, (k, v, a) -> a + "/" + v);
      if (name.equals("cogroup-windowed-session")) {
        cogrouped.windowedBy(SessionWindows.ofInactivityGapAndGrace(
                Duration.ofMillis(p.get("gap")), Duration.ofMillis(p.getOrDefault("grace", 0L))))
            .aggregate(() -> "", (k, a1, a2) -> a1 + "&" + a2, Materialized.with(S, S))
            .toStream().to("out", Produced.with(new WindowedSerdes.SessionWindowedSerde<>(S), S));
        return;
      }
      if (name.startsWith("cogroup-windowed")) {
        final long grace = p.getOrDefault("grace", 0L);
        final long size = name.endsWith("sliding") ? p.get("diff") : p.get("size");
        final KTable<Windowed<String>, String> table;
        if (name.endsWith("sliding")) {
          table = cogrouped.windowedBy(
              SlidingWindows.ofTimeDifferenceAndGrace(Duration.ofMillis(size), Duration.ofMillis(grace)))
              .aggregate(() -> "", Materialized.with(S, S));
        } else {
          TimeWindows windows = TimeWindows.ofSizeAndGrace(Duration.ofMillis(size), Duration.ofMillis(grace));
          if (name.endsWith("hopping")) windows = windows.advanceBy(Duration.ofMillis(p.get("advance")));
          table = cogrouped.windowedBy(windows).aggregate(() -> "", Materialized.with(S, S));
        }
        table.toStream().to("out", Produced.with(new WindowedSerdes.TimeWindowedSerde<>(S, size), S));
        return;
      }
      cogrouped.aggregate(() -> "", Materialized.with(S, S)).toStream().to("out", Produced.with(S, S));
      return;
    }
    if (name.startsWith("transformValues")) {
      final KTable<String, String> t = b.table("in", Consumed.with(S, S));
      final ValueTransformerWithKeySupplier<String, String, String> upper = () -> new ValueTransformerWithKey<>() {
        private int calls;

        @Override
        public void init(final ProcessorContext context) {}

        @Override
        public String transform(final String key, final String value) {
          calls++;
          return value == null ? (calls % 2 == 0 ? null : "gone") : value.toUpperCase() + calls % 3;
        }

        @Override
        public void close() {}
      };
      (name.equals("transformValues") ? t.transformValues(upper)
          : t.transformValues(upper, Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("tv")
              .withKeySerde(S).withValueSerde(S)))
          .toStream().to("out", Produced.with(S, S));
      return;
    }
    if (name.equals("stream-processValues")) {
      in.processValues(() -> new ContextualFixedKeyProcessor<String, String, String>() {
        @Override
        public void process(final FixedKeyRecord<String, String> r) {
          if (r.value() != null && r.value().length() > 2) {
            return;
          }
          context().forward(r.withValue(r.value() + "!"));
        }
      }).groupByKey().count().toStream().to("out", Produced.with(S, Serdes.Long()));
      return;
    }
    if (name.equals("global-store")) {
      // A global store of its own: its processor keeps the upper-cased values of in2; `in` reads it by first letter.
      b.addGlobalStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("g"), S, S).withLoggingDisabled(),
          "in2", Consumed.with(S, S), () -> new Processor<String, String, Void, Void>() {
            private KeyValueStore<String, String> store;

            @Override
            public void init(final org.apache.kafka.streams.processor.api.ProcessorContext<Void, Void> c) {
              store = c.getStateStore("g");
            }

            @Override
            public void process(final Record<String, String> r) {
              if (r.key() == null) {
                return;
              }
              if (r.value() == null) {
                store.delete(r.key());
              } else {
                store.put(r.key(), r.value().toUpperCase());
              }
            }
          });
      in.process(() -> new ContextualProcessor<String, String, String, String>() {
        @Override
        public void process(final Record<String, String> r) {
          final KeyValueStore<String, String> g = context().getStateStore("g");
          final String f = Topologies.first(r.value());
          context().forward(r.withValue(r.value() + "+" + (f == null ? null : g.get(f))));
        }
      }).to("out", Produced.with(S, S));
      return;
    }
    if (name.equals("stream-toTable")) {
      in.toTable().toStream().to("out", Produced.with(S, S));
      return;
    }
    if (name.equals("stream-toTable-rekeyed")) {
      in.selectKey((k, v) -> Topologies.first(v))
          .toTable(Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("tt").withKeySerde(S).withValueSerde(S))
          .toStream().to("out", Produced.with(S, S));
      return;
    }
    final Produced<String, String> strings = Produced.with(S, S);
    final ValueJoiner<String, String, String> j = (v, o) -> v + "+" + o;
    switch (name) {
      case "join-stream-table" -> in.join(table(b), j).to("out", strings);
      case "join-stream-table-left" -> in.leftJoin(table(b), j).to("out", strings);
      case "join-stream-table-rekeyed" -> in.selectKey((k, v) -> Topologies.first(v))
          .leftJoin(table(b), j, Joined.with(S, S, S)).to("out", strings);
      case "join-stream-stream" -> in.join(other(b), j, windows(p), StreamJoined.with(S, S, S)).to("out", strings);
      case "join-stream-stream-left" -> in.leftJoin(other(b), j, windows(p), StreamJoined.with(S, S, S))
          .to("out", strings);
      case "join-stream-stream-outer" -> in.outerJoin(other(b), j, windows(p), StreamJoined.with(S, S, S))
          .to("out", strings);
      case "join-global" -> in.join(b.globalTable("in2", Consumed.with(S, S)), (k, v) -> Topologies.first(v), j)
          .to("out", strings);
      case "join-global-left" -> in.leftJoin(b.globalTable("in2", Consumed.with(S, S)), (k, v) -> Topologies.first(v),
          j).to("out", strings);
      case "join-table-table" -> b.table("in", Consumed.with(S, S)).join(table(b), j).toStream().to("out", strings);
      case "join-table-table-left" -> b.table("in", Consumed.with(S, S)).leftJoin(table(b), j).toStream()
          .to("out", strings);
      case "join-table-table-outer" -> b.table("in", Consumed.with(S, S)).outerJoin(table(b), j).toStream()
          .to("out", strings);
      default -> throw new IllegalArgumentException("unknown topology " + name);
    }
  }

  /** The foreign key of a value: its first letter, none for a value starting with "h". */
  static String foreignKey(final String v) {
    return v == null || v.isEmpty() || v.startsWith("h") ? null : v.substring(0, 1);
  }

  /** Foreign-key joins: table "in" joined to table "in2" on the first letter of its values. */
  private static void foreignKey(final StreamsBuilder b, final String name) {
    final KTable<String, String> left = b.table("in", Consumed.with(S, S));
    final KTable<String, String> right = b.table("in2", Consumed.with(S, S));
    final ValueJoiner<String, String, String> j = (v, o) -> v + "+" + o;
    final Function<String, String> fk = JoinTopologies::foreignKey;
    final KTable<String, String> joined = switch (name) {
      case "join-fk" -> left.join(right, fk, j);
      case "join-fk-left" -> left.leftJoin(right, fk, j);
      case "join-fk-materialized" -> left.join(right, fk, j,
          Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("fk").withKeySerde(S).withValueSerde(S));
      case "join-fk-left-materialized" -> left.leftJoin(right, fk, j,
          Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("fk").withKeySerde(S).withValueSerde(S));
      default -> throw new IllegalArgumentException("unknown topology " + name);
    };
    joined.toStream().to("out", Produced.with(S, S));
  }

  private static KTable<String, String> table(final StreamsBuilder b) {
    return b.table("in2", Consumed.with(S, S));
  }

  private static KStream<String, String> other(final StreamsBuilder b) {
    return b.stream("in2", Consumed.with(S, S));
  }

  private static JoinWindows windows(final Map<String, Long> p) {
    return JoinWindows.ofTimeDifferenceAndGrace(Duration.ofMillis(p.get("diff")), Duration.ofMillis(p.get("grace")));
  }
}
