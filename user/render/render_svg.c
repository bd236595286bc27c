/* svg: a self-contained flame graph. With a base profile (report --base),
 * a differential one: frames sized by the new profile, coloured by their
 * change from the base (red grew, blue shrank, the deeper the more; new
 * frames marked), as flamegraph.pl's and async-profiler's differential
 * graphs. The unzoomed frames are written as
 * SVG (it draws without script: <img>, previews); the merged call tree is
 * also embedded as data, and a small script redraws the frames of the
 * current zoom (those wider than 0.1 px), so 50,000 distinct stacks stay
 * responsive.
 * Click a frame to zoom, "Reset Zoom" to go back, "Search" (or Ctrl-F) to
 * highlight matching functions with their share. No network access needed. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "render/flametree.h"
#include "render/render.h"

#define WIDTH 1200
#define FRAME_H 16
#define PAD_TOP 50
#define PAD_BOTTOM 34

static const char script[] =
"var W=%d,FH=%d,PT=%d,PB=%d,H;\n"
"var nodes,kids,zoom=0,matchRe=null,svg,framesG,details,unit;\n"
"function fmt(v){var a=Math.abs(v),r=function(x,s){return (Math.round(x*100)/100)+s;};\n"
" if(unit=='nanoseconds'){if(a>=1e9)return r(v/1e9,'s');if(a>=1e6)return r(v/1e6,'ms');if(a>=1e3)return r(v/1e3,'us');return v+'ns';}\n"
" if(unit=='bytes'){if(a>=1073741824)return r(v/1073741824,'GB');if(a>=1048576)return r(v/1048576,'MB');if(a>=1024)return r(v/1024,'kB');return v+'B';}\n"
" return String(v);}\n"
"function color(n){var name=DATA.names[n[0]],h=0;for(var i=0;i<name.length;i++)h=(h*31+name.charCodeAt(i))>>>0;\n"
" var f=(h%%1000)/1000;if(matchRe&&matchRe.test(name))return 'rgb(230,0,230)';\n"
" if(DATA.diff){if(n[5])return 'hsl(0,100%%,42%%)';var g=Math.min(Math.abs(n[4])/(DATA.maxd||1),1);\n"
"  if(!n[4])return 'hsl(0,0%%,88%%)';return 'hsl('+(n[4]>0?0:220)+',85%%,'+(94-44*g)+'%%)';}\n"
" if(n[1]==1)return 'hsl('+(195+f*30)+',70%%,'+(62+f*12)+'%%)';\n"
" if(n[1]==3)return 'hsl(40,10%%,'+(72+f*10)+'%%)';\n"
" if(n[1]==2)return 'hsl('+(85+f*40)+',55%%,'+(55+f*10)+'%%)';\n"
" return 'hsl('+(f*50)+',85%%,'+(55+f*10)+'%%)';}\n"
"function init(evt){svg=document.documentElement;framesG=document.getElementById('frames');\n"
" details=document.getElementById('details').firstChild;unit=DATA.unit;var raw=DATA.nodes;nodes=[];kids=[];\n"
" var st=DATA.diff?6:4;for(var i=0;i<raw.length;i+=st){nodes.push(raw.slice(i,i+st));kids.push([]);}\n"
" for(var i=1;i<nodes.length;i++)kids[nodes[i][3]].push(i);\n"
" H=+svg.getAttribute('height');\n"
" document.getElementById('unzoom').addEventListener('click',function(){zoomTo(0);});\n"
" document.getElementById('search').addEventListener('click',function(){if(matchRe)search(null);else{var t=prompt('Search (regular expression):','');if(t)search(t);}});\n"
" window.addEventListener('keydown',function(e){if((e.ctrlKey||e.metaKey)&&e.keyCode==70){e.preventDefault();var t=prompt('Search (regular expression):','');if(t)search(t);}});\n"
" draw();}\n"
"function el(tag,attrs){var e=document.createElementNS('http://www.w3.org/2000/svg',tag);for(var k in attrs)e.setAttribute(k,attrs[k]);return e;}\n"
"function frame(i,x,w,depth,faded){var n=nodes[i],y=H-PB-(depth+1)*FH,name=DATA.names[n[0]];\n"
" var g=el('g',{'class':'frame','data-node':i});if(faded)g.setAttribute('opacity','0.6');\n"
" var total=nodes[0][2]||1,pct=(100*n[2]/total).toFixed(2);\n"
" var t=el('title',{});t.textContent=name+' ('+fmt(n[2])+', '+pct+'%%)'+(DATA.diff?(n[5]?', new':', '+(n[4]>=0?'+':'')+fmt(n[4])):'');g.appendChild(t);\n"
" g.appendChild(el('rect',{x:x.toFixed(2),y:y,width:Math.max(w-0.5,0.1).toFixed(2),height:FH-1,fill:color(n),rx:2,ry:2}));\n"
" var chars=Math.floor((w-6)/7);if(chars>=3){var lab=name.length<=chars?name:name.substr(0,chars-2)+'..';\n"
"  var tx=el('text',{x:(x+3).toFixed(2),y:y+FH-5});tx.textContent=lab;g.appendChild(tx);}\n"
" g.addEventListener('click',function(){zoomTo(i);});\n"
" g.addEventListener('mouseover',function(){details.nodeValue=t.textContent;});\n"
" g.addEventListener('mouseout',function(){details.nodeValue=' ';});\n"
" framesG.appendChild(g);}\n"
"function draw(){while(framesG.firstChild)framesG.removeChild(framesG.firstChild);\n"
" var z=nodes[zoom],scale=(W-20)/(z[2]||1),depthOf=[],d=0;\n"
" for(var a=zoom;a>0;a=nodes[a][3])d++;\n"
" var anc=[];for(var a=nodes[zoom][3];a>=0;a=nodes[a][3])anc.push(a);\n"
" for(var k=0;k<anc.length;k++)frame(anc[k],10,W-20,d-1-k,true);\n"
" var stack=[[zoom,10,d]];\n"
" while(stack.length){var s=stack.pop(),i=s[0],x=s[1],dep=s[2],w=nodes[i][2]*scale;if(w<0.1)continue;\n"
"  frame(i,x,w,dep,false);var cx=x;for(var c=0;c<kids[i].length;c++){var k2=kids[i][c];stack.push([k2,cx,dep+1]);cx+=nodes[k2][2]*scale;}}\n"
" document.getElementById('unzoom').setAttribute('class',zoom?'':'hide');\n"
" if(matchRe)showMatched();}\n"
"function zoomTo(i){zoom=i;draw();}\n"
"function showMatched(){var sum=0,st=[0];while(st.length){var i=st.pop();if(i&&matchRe.test(DATA.names[nodes[i][0]])){sum+=nodes[i][2];continue;}\n"
"  for(var c=0;c<kids[i].length;c++)st.push(kids[i][c]);}\n"
" document.getElementById('matched').firstChild.nodeValue='Matched: '+(100*sum/(nodes[0][2]||1)).toFixed(1)+'%%';}\n"
"function search(term){if(term===null){matchRe=null;document.getElementById('matched').firstChild.nodeValue=' ';\n"
"  document.getElementById('search').firstChild.nodeValue='Search';draw();return;}\n"
" try{matchRe=new RegExp(term);}catch(e){matchRe=new RegExp(term.replace(/[.*+?^${}()|[\\]\\\\]/g,'\\\\$&'));}\n"
" document.getElementById('search').firstChild.nodeValue='Reset Search';draw();}\n";

/* A differential graph: each node's change from the base, whether it is
 * new, and the largest change (the colour scale). */
struct ft_diff {
	int64_t *delta;
	bool *is_new;
	int64_t maxd;
};

/* The base's node for each of t's nodes (same path from the root), by a
 * walk from the root: a node's parent is always before it. */
static void diff_build(struct ft_diff *d, const struct flametree *t, const struct flametree *base)
{
	struct hmap idx = { 0 };
	int32_t *of = xcalloc(t->nodes.n, sizeof(*of));

	d->delta = xcalloc(t->nodes.n, sizeof(*d->delta));
	d->is_new = xcalloc(t->nodes.n, sizeof(*d->is_new));
	d->maxd = 0;
	for (size_t j = 1; j < base->nodes.n; j++) {
		const struct ft_node *b = &base->nodes.v[j];
		bool found;

		hmap_upsert(&idx, (uint64_t)b->parent, hash_bytes(b->name, strlen(b->name)) ^ b->kind, j, &found);
	}
	of[0] = 0;
	for (size_t i = 0; i < t->nodes.n; i++) {
		const struct ft_node *nd = &t->nodes.v[i];
		int64_t bv = 0;

		if (i) {
			int32_t bp = of[nd->parent];
			uint64_t *j = bp < 0 ? NULL : hmap_get(&idx, (uint64_t)bp, hash_bytes(nd->name, strlen(nd->name)) ^ nd->kind);

			of[i] = j && !strcmp(base->nodes.v[*j].name, nd->name) ? (int32_t)*j : -1;
		}
		if (of[i] >= 0)
			bv = base->nodes.v[of[i]].value;
		d->delta[i] = nd->value - bv;
		d->is_new[i] = of[i] < 0;
		if (i && (d->delta[i] > d->maxd || -d->delta[i] > d->maxd))
			d->maxd = d->delta[i] < 0 ? -d->delta[i] : d->delta[i];
	}
	hmap_free(&idx);
	free(of);
}

/* The script's color(): the same hash of the name, so frames keep their
 * colours when the script redraws them; in a differential graph, the
 * change. */
static void frame_color(char *buf, size_t n, const struct ft_node *nd, bool search_hit, const struct ft_diff *d,
			size_t i)
{
	uint32_t h = 0;
	double f;

	if (d && !search_hit) {
		double g = d->maxd ? (double)(d->delta[i] < 0 ? -d->delta[i] : d->delta[i]) / (double)d->maxd : 0;

		if (g > 1)
			g = 1;
		if (d->is_new[i])
			snprintf(buf, n, "hsl(0,100%%,42%%)");
		else if (!d->delta[i])
			snprintf(buf, n, "hsl(0,0%%,88%%)");
		else
			snprintf(buf, n, "hsl(%d,85%%,%g%%)", d->delta[i] > 0 ? 0 : 220, 94 - 44 * g);
		return;
	}

	for (const unsigned char *c = (const unsigned char *)nd->name; *c; c++)
		h = h * 31 + *c;
	f = (h % 1000) / 1000.0;
	if (search_hit)
		snprintf(buf, n, "rgb(230,0,230)");
	else if (nd->kind == 1)
		snprintf(buf, n, "hsl(%g,70%%,%g%%)", 195 + f * 30, 62 + f * 12);
	else if (nd->kind == 3)
		snprintf(buf, n, "hsl(40,10%%,%g%%)", 72 + f * 10);
	else if (nd->kind == 2)
		snprintf(buf, n, "hsl(%g,55%%,%g%%)", 85 + f * 40, 55 + f * 10);
	else
		snprintf(buf, n, "hsl(%g,85%%,%g%%)", f * 50, 55 + f * 10);
}

/* The frames of the unzoomed view, written as SVG: the graph draws where
 * no script runs (an <img>, previews, viewers). Laid out as the script's
 * draw() does; frames narrower than 0.1 px are left out (their children
 * are narrower still), as flamegraph.pl's minwidth. */
static void static_frames(FILE *out, const struct flametree *t, int height, const char *unit, const struct ft_diff *d)
{
	size_t n = t->nodes.n;
	double *x = xcalloc(n, sizeof(double)), *cx = xcalloc(n, sizeof(double));
	double scale = (WIDTH - 20) / (double)(t->nodes.v[0].value ? t->nodes.v[0].value : 1);
	int64_t total = t->nodes.v[0].value ? t->nodes.v[0].value : 1;

	for (size_t i = 0; i < n; i++) {
		const struct ft_node *nd = &t->nodes.v[i];
		double w = nd->value * scale;
		int y = height - PAD_BOTTOM - (nd->depth + 1) * FRAME_H;
		char fill[64], val[64];
		int chars;

		if (nd->parent >= 0) {
			x[i] = cx[nd->parent];
			cx[nd->parent] += w;
		} else {
			x[i] = 10;
		}
		cx[i] = x[i];
		if (w < 0.1)
			continue;
		frame_color(fill, sizeof(fill), nd, false, d, i);
		fprintf(out, "<g class=\"frame\" data-node=\"%zu\"><title>", i);
		xml_escape(out, nd->name);
		format_value(val, sizeof(val), nd->value, unit);
		if (d) {
			char dv[64];

			format_value(dv, sizeof(dv), d->delta[i], unit);
			fprintf(out, " (%s, %.2f%%)%s%s%s", val, 100.0 * nd->value / total, d->is_new[i] ? ", new" : ", ",
				d->is_new[i] ? "" : d->delta[i] >= 0 ? "+" : "", d->is_new[i] ? "" : dv);
			fprintf(out, "</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" "
				"fill=\"%s\" rx=\"2\" ry=\"2\"/>", x[i], y, w - 0.5 > 0.1 ? w - 0.5 : 0.1, FRAME_H - 1, fill);
		} else
		fprintf(out, " (%s, %.2f%%)</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" "
			"fill=\"%s\" rx=\"2\" ry=\"2\"/>", val, 100.0 * nd->value / total, x[i], y,
			w - 0.5 > 0.1 ? w - 0.5 : 0.1, FRAME_H - 1, fill);
		chars = (int)((w - 6) / 7);
		if (chars >= 3) {
			size_t len = strlen(nd->name);

			fprintf(out, "<text x=\"%.2f\" y=\"%d\">", x[i] + 3, y + FRAME_H - 5);
			if (len <= (size_t)chars) {
				xml_escape(out, nd->name);
			} else {
				char *cut = xstrdup(nd->name);
				size_t at = (size_t)chars - 2;

				while (at && ((unsigned char)cut[at] & 0xc0) == 0x80)
					at--; /* not inside a UTF-8 sequence */
				cut[at] = 0;
				xml_escape(out, cut);
				fputs("..", out);
				free(cut);
			}
			fputs("</text>", out);
		}
		fputs("</g>\n", out);
	}
	free(x);
	free(cx);
}

int render_svg(const struct profile *p, const struct render_opts *o, FILE *out)
{
	struct flametree t;
	struct hmap name_ids = { 0 };
	VEC(const char *) names = { 0 };
	const struct pf_value_type *vt = &p->types[o->sample_index];
	int height;
	char total[64], title[1024];

	struct ft_diff diff = { 0 }, *d = NULL;

	flametree_build(&t, p, o->sample_index);
	if (o->base) { /* differential: the base's tree, in the same sample type */
		struct flametree bt;
		int bi = profile_type_index(o->base, vt->type);

		flametree_build(&bt, o->base, bi >= 0 ? bi : 0);
		diff_build(&diff, &t, &bt);
		flametree_free(&bt);
		d = &diff;
	}
	height = PAD_TOP + PAD_BOTTOM + (t.max_depth + 1) * FRAME_H;
	format_value(total, sizeof(total), t.nodes.v[0].value, vt->unit);
	snprintf(title, sizeof(title), "bpfprof %s%s%s: %s (%s), total %s%s%s",
		 p->command, p->target[0] ? " " : "", p->target, vt->type, vt->unit, total,
		 d ? " - differential: red grew, blue shrank since the base" : "",
		 profile_lost_total(p) ? ", some samples lost (see header of top)" : "");

	fprintf(out, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" onload=\"init(evt)\" "
		"xmlns=\"http://www.w3.org/2000/svg\">\n", WIDTH, height, WIDTH, height);
	fprintf(out, "<style type=\"text/css\">text{font-family:Verdana,sans-serif;font-size:12px;fill:#000}"
		"#title{font-size:17px}.frame text{font-size:11px;pointer-events:none}"
		".frame:hover rect{stroke:#000;stroke-width:0.5}#unzoom,#search{cursor:pointer}"
		".hide{display:none}</style>\n");
	fprintf(out, "<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"#f6f6f2\"/>\n");
	fputs("<text id=\"title\" x=\"600\" y=\"24\" text-anchor=\"middle\">", out);
	xml_escape(out, title);
	fputs("</text>\n", out);
	fprintf(out, "<text id=\"unzoom\" x=\"10\" y=\"24\" class=\"hide\">Reset Zoom</text>\n"
		"<text id=\"search\" x=\"%d\" y=\"24\" text-anchor=\"end\">Search</text>\n"
		"<text id=\"details\" x=\"10\" y=\"%d\"> </text>\n"
		"<text id=\"matched\" x=\"%d\" y=\"%d\" text-anchor=\"end\"> </text>\n"
		"<g id=\"frames\">\n", WIDTH - 10, height - 12, WIDTH - 10, height - 12);
	static_frames(out, &t, height, vt->unit, d);
	fputs("</g>\n", out);

	/* Data: names once, then nodes as [name, kind, value, parent] quads. */
	fputs("<script type=\"text/ecmascript\"><![CDATA[\nvar DATA={\"unit\":", out);
	json_string(out, vt->unit);
	if (d)
		fprintf(out, ",\"diff\":true,\"maxd\":%" PRId64, d->maxd);
	fputs(",\"names\":[", out);
	for (size_t i = 0; i < t.nodes.n; i++) {
		bool found;
		hmap_upsert(&name_ids, (uintptr_t)t.nodes.v[i].name, 0, names.n, &found);

		if (!found) {
			if (names.n)
				fputc(',', out);
			json_string(out, t.nodes.v[i].name);
			vec_push(&names, t.nodes.v[i].name);
		}
	}
	fputs("],\"nodes\":[", out);
	for (size_t i = 0; i < t.nodes.n; i++) {
		const struct ft_node *nd = &t.nodes.v[i];

		fprintf(out, "%s%" PRIu64 ",%d,%" PRId64 ",%d", i ? "," : "",
			*hmap_get(&name_ids, (uintptr_t)nd->name, 0), nd->kind, nd->value, nd->parent);
		if (d)
			fprintf(out, ",%" PRId64 ",%d", d->delta[i], d->is_new[i]);
		if (i % 64 == 63)
			fputc('\n', out);
	}
	fputs("]};\n", out);
	fprintf(out, script, WIDTH, FRAME_H, PAD_TOP, PAD_BOTTOM);
	fputs("]]></script>\n</svg>\n", out);
	hmap_free(&name_ids);
	vec_free(&names);
	flametree_free(&t);
	free(diff.delta);
	free(diff.is_new);
	return ferror(out) ? -EIO : 0;
}
