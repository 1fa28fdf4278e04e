/** O(P N) reference AUC: fraction of (positive, negative) pairs the positive wins, ties 1/2. */
export function pairCountAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
	let wins = 0;
	let pairs = 0;
	for (let i = 0; i < scores.length; i++) {
		if (labels[i] === 0) continue;
		for (let j = 0; j < scores.length; j++) {
			if (labels[j] !== 0) continue;
			pairs++;
			if (scores[i] > scores[j]) wins += 1;
			else if (scores[i] === scores[j]) wins += 0.5;
		}
	}
	return wins / pairs;
}
