// Vary region: a mask painted with the mouse on a canvas laid over the picture, at the picture's
// own size, and turned into the mask the API reads (white repaints, black keeps, a PNG).

export class MaskPainter {
  // A canvas of width x height over `frame`; `onPaint` is called when something is painted.
  constructor(frame, width, height, onPaint) {
    this.canvas = document.createElement("canvas");
    this.canvas.width = width;
    this.canvas.height = height;
    this.canvas.setAttribute("aria-label", "Mask: paint the region to repaint");
    frame.append(this.canvas);
    this.pen = this.canvas.getContext("2d");
    this.pen.strokeStyle = "#fff";
    this.pen.fillStyle = "#fff";
    this.pen.lineCap = "round";
    this.pen.lineJoin = "round";
    this.pen.lineWidth = Math.max(8, Math.round(width * 0.07));
    this.painting = false;
    this.painted = false;
    this.onPaint = onPaint;
    this.canvas.addEventListener("pointerdown", (event) => this.from(event));
    this.canvas.addEventListener("pointermove", (event) => this.to(event));
    this.canvas.addEventListener("pointerup", () => (this.painting = false));
    this.canvas.addEventListener("pointercancel", () => (this.painting = false));
  }

  point(event) {
    const rect = this.canvas.getBoundingClientRect();
    return [
      ((event.clientX - rect.left) * this.canvas.width) / rect.width,
      ((event.clientY - rect.top) * this.canvas.height) / rect.height,
    ];
  }

  from(event) {
    this.painting = true;
    this.canvas.setPointerCapture(event.pointerId);
    const [x, y] = this.point(event);
    this.pen.beginPath();
    this.pen.arc(x, y, this.pen.lineWidth / 2, 0, Math.PI * 2);
    this.pen.fill();
    this.pen.beginPath();
    this.pen.moveTo(x, y);
    this.mark();
  }

  to(event) {
    if (!this.painting) return;
    const [x, y] = this.point(event);
    this.pen.lineTo(x, y);
    this.pen.stroke();
    this.mark();
  }

  mark() {
    this.painted = true;
    this.onPaint();
  }

  clear() {
    this.pen.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.painted = false;
  }

  remove() {
    this.canvas.remove();
  }

  // The mask as the API reads it: the picture's size, white where painted, black elsewhere.
  dataUrl() {
    const mask = document.createElement("canvas");
    mask.width = this.canvas.width;
    mask.height = this.canvas.height;
    const pen = mask.getContext("2d");
    pen.fillStyle = "#000";
    pen.fillRect(0, 0, mask.width, mask.height);
    pen.drawImage(this.canvas, 0, 0);
    return mask.toDataURL("image/png");
  }
}
