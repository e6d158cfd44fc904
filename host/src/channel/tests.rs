//! Unit tests of the parent module.

use super::*;

impl Weighed for u32 {
    fn weight(&self) -> usize {
        *self as usize
    }
}

impl Weighed for &str {
    fn weight(&self) -> usize {
        0
    }
}

impl Weighed for u8 {
    fn weight(&self) -> usize {
        0
    }
}

const NO_BYTE_LIMIT: usize = usize::MAX;

#[tokio::test]
async fn a_slot_is_full_at_its_byte_bound_and_a_big_item_travels_alone() {
    let (senders, mut rx) = channel::<u32>(&[100], 10, CancellationToken::new());
    let tx = senders.into_iter().next().unwrap();
    // Weights are the values: 4 + 4 fit in 10 bytes, 4 more would not; 25 goes alone.
    let sender = async move { tx.send(vec![4, 4, 4, 25, 1, 1]).await.unwrap() };
    let receiver = async move {
        let mut morsels = Vec::new();
        while let Some(m) = rx.recv().await.unwrap() {
            morsels.push(m.items);
            // Let the sender fill the slot again before the next take.
            tokio::task::yield_now().await;
        }
        morsels
    };
    let (_, morsels) = tokio::join!(sender, receiver);
    assert!(
        morsels
            .iter()
            .all(|m| m.iter().sum::<u32>() <= 10 || m.len() == 1),
        "{morsels:?}"
    );
    assert_eq!(morsels.concat(), vec![4, 4, 4, 25, 1, 1]);
    assert!(morsels.contains(&vec![25]), "{morsels:?}");
}

#[tokio::test]
async fn morsels_larger_than_capacity_are_split_and_kept_in_order() {
    let (senders, mut rx) = channel::<u32>(&[3], NO_BYTE_LIMIT, CancellationToken::new());
    let tx = senders.into_iter().next().unwrap();
    let sender = async move {
        tx.send((0..10).collect()).await.unwrap();
    };
    let receiver = async move {
        let mut got = Vec::new();
        while let Some(m) = rx.recv().await.unwrap() {
            assert!(m.items.len() <= 3);
            got.extend(m.items);
        }
        (got, rx.probe().stats())
    };
    let ((), (got, stats)) = tokio::join!(sender, receiver);
    assert_eq!(got, (0..10).collect::<Vec<_>>());
    assert_eq!(
        stats,
        vec![SlotStats {
            capacity: 3,
            max_depth: 3
        }]
    );
}

#[tokio::test]
async fn fan_in_keeps_arrival_order_and_ends_when_every_sender_is_gone() {
    let (senders, mut rx) = channel::<&str>(&[4, 4], NO_BYTE_LIMIT, CancellationToken::new());
    senders[1].send(vec!["b1"]).await.unwrap();
    senders[0].send(vec!["a1", "a2"]).await.unwrap();
    senders[1].send(vec!["b2"]).await.unwrap();
    drop(senders);
    let mut got = Vec::new();
    while let Some(m) = rx.recv().await.unwrap() {
        got.push((m.slot, m.items));
    }
    assert_eq!(
        got,
        vec![(1, vec!["b1"]), (0, vec!["a1", "a2"]), (1, vec!["b2"])]
    );
}

#[tokio::test]
async fn no_slots_means_already_ended() {
    let (_senders, mut rx) = channel::<u8>(&[], NO_BYTE_LIMIT, CancellationToken::new());
    assert!(rx.recv().await.unwrap().is_none());
}

#[tokio::test]
async fn dropped_receiver_closes_senders() {
    let (senders, rx) = channel::<u8>(&[1], NO_BYTE_LIMIT, CancellationToken::new());
    drop(rx);
    assert_eq!(senders[0].send(vec![1, 2]).await, Err(SendError::Closed));
}

#[tokio::test(start_paused = true)]
async fn cancellation_unblocks_a_full_sender() {
    let cancel = CancellationToken::new();
    let (senders, _rx) = channel::<u8>(&[1], NO_BYTE_LIMIT, cancel.clone());
    let canceller = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        cancel.cancel();
    };
    let (result, ()) = tokio::join!(senders[0].send(vec![1, 2, 3]), canceller);
    assert_eq!(result, Err(SendError::Cancelled));
}

#[tokio::test]
async fn an_aborted_stream_delivers_what_was_sent_then_no_end() {
    let (senders, mut rx) = channel::<u32>(&[4, 4], NO_BYTE_LIMIT, CancellationToken::new());
    let mut senders = senders.into_iter();
    let (ok, failed) = (senders.next().unwrap(), senders.next().unwrap());
    ok.send(vec![1]).await.unwrap();
    failed.send(vec![2]).await.unwrap();
    // One slot ends well, the other fails: the stream as a whole has no proper end.
    drop(ok);
    failed.abort();
    assert_eq!(rx.recv().await.unwrap().unwrap().items, vec![1]);
    assert_eq!(rx.recv().await.unwrap().unwrap().items, vec![2]);
    assert!(rx.recv().await.is_err());
}

#[tokio::test]
async fn a_cancelled_run_takes_what_fits_and_refuses_to_wait() {
    let cancel = CancellationToken::new();
    let (senders, mut rx) = channel::<u32>(&[2], NO_BYTE_LIMIT, cancel.clone());
    let tx = senders.into_iter().next().unwrap();
    cancel.cancel();
    // A sink's summary after its file is in place still goes out...
    tx.send(vec![1, 2]).await.unwrap();
    // ... but nothing waits for room once the run is cancelled.
    assert!(matches!(tx.send(vec![3]).await, Err(SendError::Cancelled)));
    assert_eq!(rx.try_recv().unwrap().items, vec![1, 2]);
}
