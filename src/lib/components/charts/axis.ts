import { axisBottom, axisLeft } from 'd3-axis';
import type { AxisScale } from 'd3-axis';
import { select } from 'd3-selection';

export interface AxisOptions {
	scale: AxisScale<number> | AxisScale<string>;
	orient: 'bottom' | 'left';
	ticks?: number;
	format?: (v: number) => string;
}

/** Svelte action drawing a d3 axis into an SVG `<g>`; redraws when the options change. */
export function axis(node: SVGGElement, options: AxisOptions) {
	const draw = (o: AxisOptions): void => {
		const make = o.orient === 'bottom' ? axisBottom : axisLeft;
		// eslint-disable-next-line @typescript-eslint/no-explicit-any
		const a = make(o.scale as AxisScale<any>);
		if (o.ticks !== undefined) a.ticks(o.ticks, o.format ? undefined : '~s');
		if (o.format) a.tickFormat((d) => o.format!(Number(d)));
		select(node).call(a);
		select(node).selectAll('text').attr('fill', '#343a40');
	};
	draw(options);
	return { update: draw };
}
