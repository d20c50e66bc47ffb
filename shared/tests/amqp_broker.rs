//! The RabbitMQ broker against the real server: confirms, routing, redelivery limits.

use std::time::Duration;

use futures_util::StreamExt;
use shared::{
    broker::{AmqpBroker, Broker, Incoming, Outgoing, Route, Source},
    config::Service,
    testkit::TestEnv,
};

fn message(body: &str) -> Outgoing {
    Outgoing {
        payload: body.as_bytes().to_vec(),
        message_id: Some(body.to_owned()),
        ..Outgoing::default()
    }
}

async fn connected(env: &TestEnv) -> std::sync::Arc<AmqpBroker> {
    let mut config = env.config(Service::Executor);
    config.delivery_limit = 2;
    let broker = AmqpBroker::start(&config);
    assert!(
        broker.wait_ready(Duration::from_secs(10)).await,
        "broker connects"
    );
    broker
}

#[tokio::test]
async fn sync_and_async_executions_go_to_separate_queues() {
    let env = TestEnv::new().await;
    let broker = connected(&env).await;
    let mut sync = broker
        .subscribe(Source::Executions {
            sync: true,
            prefetch: 4,
        })
        .await
        .expect("subscribe sync");
    let mut asynchronous = broker
        .subscribe(Source::Executions {
            sync: false,
            prefetch: 4,
        })
        .await
        .expect("subscribe async");
    broker
        .publish(Route::Execution { sync: false }, message("a"))
        .await
        .expect("async publish confirmed");
    broker
        .publish(Route::Execution { sync: true }, message("s"))
        .await
        .expect("sync publish confirmed");
    let got = tokio::time::timeout(Duration::from_secs(5), sync.next())
        .await
        .expect("sync delivery")
        .expect("stream open");
    assert_eq!(got.payload, b"s");
    got.settle.ack().await.expect("ack");
    let got = tokio::time::timeout(Duration::from_secs(5), asynchronous.next())
        .await
        .expect("async delivery")
        .expect("stream open");
    assert_eq!(got.payload, b"a");
    got.settle.ack().await.expect("ack");
}

#[tokio::test]
async fn a_message_past_its_delivery_limit_is_dead_lettered() {
    let env = TestEnv::new().await;
    let broker = connected(&env).await;
    let mut executions = broker
        .subscribe(Source::Executions {
            sync: false,
            prefetch: 1,
        })
        .await
        .expect("subscribe");
    let mut dead = broker.subscribe(Source::DeadLetters).await.expect("dead");
    broker
        .publish(Route::Execution { sync: false }, message("poison"))
        .await
        .expect("publish");
    // The limit is 2: the first delivery and two redeliveries are requeued, then parked.
    for _ in 0..3 {
        let delivery = tokio::time::timeout(Duration::from_secs(5), executions.next())
            .await
            .expect("delivery")
            .expect("open");
        delivery.settle.requeue().await.expect("requeue");
    }
    let parked = tokio::time::timeout(Duration::from_secs(5), dead.next())
        .await
        .expect("dead letter arrives")
        .expect("open");
    assert_eq!(parked.payload, b"poison");
    parked.settle.ack().await.expect("ack");
}

/// The next delivery of `stream`, waiting at most 5 s.
async fn next(stream: &mut futures_util::stream::BoxStream<'static, Incoming>) -> Incoming {
    tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("a delivery in time")
        .expect("stream open")
}

#[tokio::test]
async fn acknowledgements_sent_together_settle_exactly_the_acknowledged_deliveries() {
    let env = TestEnv::new().await;
    let broker = connected(&env).await;
    let mut executions = broker
        .subscribe(Source::Executions {
            sync: false,
            prefetch: 40,
        })
        .await
        .expect("subscribe");
    let mut dead = broker.subscribe(Source::DeadLetters).await.expect("dead");
    for n in 0..30 {
        broker
            .publish(Route::Execution { sync: false }, message(&format!("m{n}")))
            .await
            .expect("publish");
    }
    let mut held = Vec::new();
    for _ in 0..30 {
        held.push(next(&mut executions).await);
    }
    // m5 stays unsettled while the rest are settled around it: acknowledgements after it
    // must not cover it, and none may cover the requeued m10 or the rejected m20.
    let slow = held.remove(5);
    for delivery in held {
        match delivery.message_id.as_deref() {
            Some("m10") => delivery.settle.requeue().await.expect("requeue"),
            Some("m20") => delivery.settle.reject().await.expect("reject"),
            _ => delivery.settle.ack().await.expect("ack"),
        }
    }
    let requeued = next(&mut executions).await;
    assert_eq!(requeued.message_id.as_deref(), Some("m10"));
    assert!(requeued.redelivered, "given back, not acknowledged");
    let parked = next(&mut dead).await;
    assert_eq!(parked.message_id.as_deref(), Some("m20"));
    parked.settle.ack().await.expect("ack");
    requeued.settle.ack().await.expect("ack");
    // Had an acknowledgement covered m5 meanwhile, giving it back would fail.
    tokio::time::sleep(Duration::from_millis(200)).await;
    slow.settle.requeue().await.expect("requeue");
    let slow = next(&mut executions).await;
    assert_eq!(slow.message_id.as_deref(), Some("m5"));
    assert!(slow.redelivered);
    slow.settle.ack().await.expect("ack");

    // The channel is still healthy (an acknowledgement of an unknown tag would have closed
    // it, and the re-subscription would redeliver what it held): the next message is new.
    broker
        .publish(Route::Execution { sync: false }, message("after"))
        .await
        .expect("publish");
    let after = next(&mut executions).await;
    assert_eq!(after.message_id.as_deref(), Some("after"));
    assert!(!after.redelivered);
    after.settle.ack().await.expect("ack");
    drop(executions);

    // Nothing is left unacknowledged: a fresh consumer gets nothing.
    assert_nothing_left(&broker, "left unacknowledged").await;
}

/// Fails if a fresh consumer of the async executions gets a delivery within 2 s; `what` says
/// what such a delivery would mean.
async fn assert_nothing_left(broker: &AmqpBroker, what: &str) {
    let mut again = broker
        .subscribe(Source::Executions {
            sync: false,
            prefetch: 64,
        })
        .await
        .expect("subscribe again");
    let leftover = tokio::time::timeout(Duration::from_secs(2), again.next()).await;
    assert!(
        leftover.is_err(),
        "a delivery was {what}: {:?}",
        leftover.ok().flatten().map(|d| d.message_id)
    );
}

/// Publishes `count` executions, receives and acknowledges each, and closes the broker right
/// after the last acknowledgement: with the subscription dropped first (the executor's order
/// at shutdown) or still open.
async fn acknowledge_all_then_close(env: &TestEnv, count: usize, drop_first: bool) {
    let broker = connected(env).await;
    let mut executions = broker
        .subscribe(Source::Executions {
            sync: false,
            prefetch: 64,
        })
        .await
        .expect("subscribe");
    for n in 0..count {
        broker
            .publish(Route::Execution { sync: false }, message(&format!("m{n}")))
            .await
            .expect("publish");
    }
    let mut held = Vec::new();
    for _ in 0..count {
        held.push(next(&mut executions).await);
    }
    for delivery in held {
        delivery.settle.ack().await.expect("ack");
    }
    if drop_first {
        drop(executions);
        broker.close().await;
    } else {
        broker.close().await;
        drop(executions);
    }
}

#[tokio::test]
async fn acknowledgements_pending_at_close_are_sent_before_the_connection_goes() {
    let env = TestEnv::new().await;
    for drop_first in [true, false] {
        acknowledge_all_then_close(&env, 50, drop_first).await;
        // Had an acknowledgement been lost with the connection, its message would come back.
        let broker = connected(&env).await;
        let what = format!(
            "acknowledged before closing (subscription dropped first: {drop_first}), yet delivered again"
        );
        assert_nothing_left(&broker, &what).await;
        broker.close().await;
    }
}

#[tokio::test]
async fn replies_reach_the_instance_and_changes_fan_out() {
    let env = TestEnv::new().await;
    let broker = connected(&env).await;
    let other = connected(&env).await;
    let mut replies = broker.subscribe(Source::Replies).await.expect("replies");
    let mut changes_a = broker.subscribe(Source::Changes).await.expect("changes a");
    let mut changes_b = other.subscribe(Source::Changes).await.expect("changes b");
    // Consumers declare their queues asynchronously; give them a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut reply = message("r");
    reply.correlation_id = Some("exec-1".into());
    other
        .publish(Route::Reply(broker.reply_address()), reply)
        .await
        .expect("reply");
    let got = tokio::time::timeout(Duration::from_secs(5), replies.next())
        .await
        .expect("reply arrives")
        .expect("open");
    assert_eq!(got.correlation_id.as_deref(), Some("exec-1"));
    other
        .publish(Route::Change, message("c"))
        .await
        .expect("change");
    for changes in [&mut changes_a, &mut changes_b] {
        let got = tokio::time::timeout(Duration::from_secs(5), changes.next())
            .await
            .expect("change arrives")
            .expect("open");
        assert_eq!(got.payload, b"c");
    }
}

#[tokio::test]
async fn publishing_without_a_broker_fails_fast() {
    let env = TestEnv::new().await;
    let mut config = env.config(Service::Ingress);
    config.amqp_url = "amqp://guest:guest@127.0.0.1:1/%2f".into();
    let broker = AmqpBroker::start(&config);
    assert!(!broker.wait_ready(Duration::from_millis(300)).await);
    assert!(!broker.is_ready());
    let err = broker
        .publish(Route::Execution { sync: false }, message("x"))
        .await
        .expect_err("not connected");
    assert!(matches!(err, shared::broker::BrokerError::Unavailable(_)));
}

/// A server that accepts a connection and then says nothing (RabbitMQ still booting, or a
/// peer gone without a reset) must not hold the broker: the attempt times out and the next
/// one, through to RabbitMQ, connects.
#[tokio::test]
async fn a_connection_that_never_answers_is_given_up_and_made_again() {
    use tokio::net::{TcpListener, TcpStream};

    let env = TestEnv::new().await;
    let mut config = env.config(Service::Ingress);
    let upstream: lapin::uri::AMQPUri = config.amqp_url.parse().expect("AMQP URL");
    let upstream = format!("{}:{}", upstream.authority.host, upstream.authority.port);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let proxy = tokio::spawn(async move {
        // The first connection is held open, never answered, until the test ends.
        let _silent = listener.accept().await.expect("first connection");
        loop {
            let (mut client, _) = listener.accept().await.expect("connection");
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let mut server = TcpStream::connect(upstream).await.expect("RabbitMQ");
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            });
        }
    });
    config.amqp_url = format!("amqp://guest:guest@{addr}/%2f");
    let broker = AmqpBroker::start(&config);
    assert!(
        !broker.wait_ready(Duration::from_secs(2)).await,
        "the first attempt cannot have connected"
    );
    assert!(
        broker.wait_ready(Duration::from_secs(20)).await,
        "the broker did not give up on the silent connection and connect again"
    );
    broker
        .publish(Route::Execution { sync: false }, message("after"))
        .await
        .expect("publishing once connected");
    broker.close().await;
    proxy.abort();
}
