"""Figures written to files."""

def test_save_small_png_writes_a_palette_png(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    from shallownet.plots.files import save_small_png

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = save_small_png(fig, tmp_path / "f.png", dpi=50)
    plt.close(fig)
    with Image.open(path) as img:
        assert img.mode == "P" and img.size[0] > 100
